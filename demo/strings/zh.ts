/** 页面的中文字符串：与英文表（demo/strings/en.ts）一一对应，缺一个键类型检查就会报错。 */
import type { StringTable } from '../i18n.js';

export const zh: StringTable = {
  'page.title': 'webgpu-rnn —— 在浏览器里训练循环神经网络',
  'page.language': '语言',
  // 页面行为（工程师 D）：提示、占位文字、奈特的说明、速度面板的尺寸。
  'ux.settingsChanged': '这些设置与已训练的模型（{model}）不同：点“训练”会从头开始一个新模型。改回原来的设置即可接着训练它。',
  'ux.trainNew': '训练新模型',
  'ux.locked': '训练进行中，模型的设置已锁定：先点“停止”再修改。',
  'ux.datesSettings': '这些设置与当前模型（{model}）不同：“继续”会照原样接着训练它；“新模型”才会按新设置重新开始。',
  'ux.pressTrain': '点“训练”：模型边学，损失曲线边画在这里。',
  'ux.pressTrainBars': '点“训练”：这里会显示下一个字的概率。',
  'ux.pressRun': '点“运行”：曲线会画在这里。',
  'ux.pressMeasure': '点“测量”：耗时会显示在这里。',
  'ux.promptInvalid': '无法显示：提示里有这个模型不认识的字。',
  'ux.promptEmpty': '无法显示：请先输入提示。',
  'ux.nats': '奈特（nat）：以自然对数计的“意外程度”。每字损失为 L 奈特，意味着模型平均给正确的下一个字 e^−L 的概率（ln 2 ≈ 0.69 奈特，即 1 比特）。',
  'ux.stepLog': '步数（对数刻度）',
  'ux.speedShapes': '测量的尺寸：',
  'ux.speedShape': '{name}：{cell}，输入 I {I}，隐藏 H {H}，{layers} 层{bidirectional}，批大小 B {B}，序列长度 T {T}',
  'ux.speedBidirectional': '，双向',
};
