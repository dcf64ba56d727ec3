/** 页面的中文字符串：与英文表（demo/strings/en.ts）一一对应，缺一个键类型检查就会报错。 */
import type { StringTable } from '../i18n.js';

export const zh: StringTable = {
  'page.title': 'webgpu-rnn —— 在浏览器里训练循环神经网络',
  'page.language': '语言',
};
