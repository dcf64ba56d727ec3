/**
 * The demo's own corpus: everyday Chinese sentences about the weather, the time and daily life, made
 * by a seeded generator from small word lists, so that "今天天气很" has answers a model can learn
 * (好, 冷, 热, 晴朗 … in the proportions the lists give them) and the text is the same on every load.
 * Written for this project; no outside source.
 */
import { seededUniform } from '../../src/random.js';

const DAYS = ['今天', '明天', '昨天', '后天', '周末', '早上', '晚上', '中午'];
const WEATHER = ['好', '好', '好', '冷', '冷', '热', '热', '晴朗', '暖和', '凉快', '不错', '糟糕'];
const SKY = ['下雨', '下雪', '刮风', '出太阳', '有雾', '多云'];
const PEOPLE = ['我', '我们', '你', '他', '她', '妈妈', '爸爸', '朋友'];
const PLACES = ['公园', '学校', '商店', '图书馆', '公司', '医院', '饭店', '海边'];
const ACTIVITIES = ['看书', '跑步', '做饭', '喝茶', '睡觉', '工作', '散步', '写字'];
const HOURS = ['七', '八', '九', '十', '十一', '十二', '三', '五', '六'];
const FEELINGS = ['高兴', '累', '忙', '开心', '饿', '渴'];

/** `count` sentences, one per line, from `seed`. */
export function everydayCorpus(count = 3000, seed = 2026): string {
  const next = seededUniform(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const templates: Array<() => string> = [
    () => `${pick(DAYS)}天气很${pick(WEATHER)}。`,
    () => `${pick(DAYS)}天气很${pick(WEATHER)}，${pick(PEOPLE)}去${pick(PLACES)}。`,
    () => `${pick(DAYS)}会${pick(SKY)}，天气很${pick(WEATHER)}。`,
    () => `${pick(PEOPLE)}${pick(DAYS)}在${pick(PLACES)}${pick(ACTIVITIES)}。`,
    () => `现在是${pick(DAYS)}${pick(HOURS)}点，${pick(PEOPLE)}很${pick(FEELINGS)}。`,
    () => `${pick(PEOPLE)}说${pick(DAYS)}天气很${pick(WEATHER)}。`,
    () => `${pick(PEOPLE)}喜欢在${pick(PLACES)}${pick(ACTIVITIES)}。`,
  ];
  return Array.from({ length: count }, () => pick(templates)()).join('\n');
}
