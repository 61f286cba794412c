/**
 * The sentiment lexicon: polar words with weights, negation words, degree words, contrast words and
 * Weibo emoticons. Written for this project (public-opinion vocabulary of posts, comments and 留言 —
 * complaints, misconduct, and incidents that harm people — plus everyday review language); weights
 * are 1 (mild) to 3 (strong).
 */
function weighted(spec: Record<number, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [w, words] of Object.entries(spec)) for (const word of words.split(/\s+/).filter(Boolean)) out.set(word, Number(w));
  return out;
}

export const POSITIVE_WORDS = weighted({
  1: `好 不错 可以 还行 满意 方便 干净 舒服 舒适 实惠 划算 便宜 快 及时 热情 耐心 周到 细心 认真 负责 靠谱 放心 安心 清楚 整洁 新鲜 好吃 美味 可口
      好看 漂亮 喜欢 值得 支持 感谢 谢谢 多谢 辛苦了 点赞 有用 合理 规范 公正 公平 透明 高效 便民 惠民 改善 提升 进步 发展 稳定 安全 温馨 安静
      优惠 大方 宽敞 齐全 准时 到位 尽职 专业 贴心 友好 和谐 有序 顺利 成功 解决 落实 回应 答复 关心 关怀 帮助 帮忙 温暖 正能量`,
  2: `很好 挺好 非常好 满意度 赞 棒 优秀 完美 出色 精彩 超值 给力 称赞 表扬 赞扬 感动 感激 感恩 敬佩 佩服 惊喜 开心 高兴 快乐 幸福 欣慰 舒心
      暖心 贴心服务 为民 实事 好评 推荐 必须赞 五星 力荐 一流 优质 周全 尽心尽力 雪中送炭 办实事 点个赞 好样的 为人民服务`,
  3: `非常满意 特别满意 太棒了 强烈推荐 赞不绝口 无可挑剔 十分感谢 衷心感谢 万分感谢`,
});

export const NEGATIVE_WORDS = weighted({
  1: `差 慢 贵 脏 乱 吵 旧 小 冷 难 累 烦 吵闹 一般 普通 失望 不满 不便 麻烦 问题 投诉 抱怨 意见 质疑 拖延 推诿 敷衍 搪塞 拖拉 缓慢 拥挤
      破旧 简陋 异味 难吃 难看 难受 糟 凉了 洒了 漏了 少了 错了 坏了 不新鲜 油腻 太咸 太淡 偏贵 不值 后悔 遗憾 无奈 担心 担忧 焦虑 害怕
      隐患 危险 污染 噪音 扰民 堵塞 积水 塌陷 停水 停电 欠薪 拖欠 乱收费 乱罚款 不作为 慢作为 扯皮 刁难 冷漠 傲慢 态度差`,
  2: `很差 太差 垃圾 恶心 糟糕 差劲 离谱 坑 坑人 骗 骗人 欺骗 忽悠 黑心 无良 愤怒 气愤 生气 恼火 痛心 寒心 心寒 失职 渎职 违规 违法 违纪
      腐败 贪污 受贿 索贿 吃拿卡要 霸道 野蛮 粗暴 打人 殴打 强拆 强征 暴力 威胁 恐吓 侵占 克扣 挪用 造假 弄虚作假 欺压 欺负 冤 冤枉 维权
      上访 堵路 围堵 示威 抗议 曝光 举报 黑幕 内幕 猫腻 潜规则 形式主义 官僚主义 懒政 庸政 怠政 踢皮球 门难进 脸难看 事难办 欺上瞒下
      中毒 送医 送医院 去医院 进医院 住院 抢救 伤亡 死亡 身亡 遇难 丧生 受伤 重伤 致残 事故 车祸 火灾 起火 着火 爆炸 坍塌 倒塌 溺水 被困 失踪 猝死 自杀 轻生 跳楼
      斗殴 打架 砍人 行凶 抢劫 盗窃 诈骗 非法集资 传销 跑路 烂尾 讨薪 被打 受害 辱骂 霸凌 虐待 性侵 猥亵 拐卖 泄露 泄漏 变质 发霉 假药
      伪劣 有毒 超标 偷排 偷工减料 豆腐渣`,
  3: `极差 太垃圾 垃圾透顶 无法忍受 忍无可忍 草菅人命 丧尽天良 天理难容 官官相护 暴力执法 黑社会 欺男霸女 民怨沸腾 食物中毒 群死群伤
      重大事故 死伤`,
});

/** Negation flips a polar word that follows it in the same clause. */
export const NEGATIONS = new Set(
  '不 没 没有 无 非 未 别 莫 勿 不是 并不 并非 并没有 绝不 决不 毫不 从不 从未 从没 不会 不能 不够 不太 没什么 毫无 未曾 难以 不再'.split(/\s+/),
);

/** Degree words scale the polar word that follows them in the same clause. */
export const DEGREES = new Map<string, number>(
  Object.entries({
    极其: 2,
    极度: 2,
    极为: 2,
    极: 1.8,
    超级: 1.8,
    超: 1.6,
    太: 1.6,
    最: 1.8,
    非常: 1.8,
    特别: 1.7,
    十分: 1.7,
    相当: 1.5,
    格外: 1.5,
    实在: 1.5,
    真: 1.4,
    真的: 1.4,
    很: 1.4,
    挺: 1.2,
    蛮: 1.2,
    更: 1.3,
    越来越: 1.4,
    比较: 1.1,
    还算: 0.8,
    有点: 0.8,
    有些: 0.8,
    稍微: 0.6,
    略: 0.6,
    一点: 0.7,
  }),
);

/** After a contrast word the rest of the sentence carries the speaker's point: its weight rises. */
export const CONTRASTS = new Set('但 但是 可是 不过 然而 只是 却'.split(/\s+/));

/** Weibo emoticons; on Weibo they carry sentiment more reliably than words ([微笑] is often sarcastic and carries none). */
export const EMOTICONS = new Map<string, number>(
  Object.entries({
    '[怒]': -3,
    '[怒骂]': -3,
    '[抓狂]': -2.5,
    '[生气]': -2.5,
    '[鄙视]': -2.5,
    '[吐]': -2.5,
    '[泪]': -2,
    '[悲伤]': -2,
    '[伤心]': -2,
    '[失望]': -2,
    '[衰]': -2,
    '[委屈]': -1.5,
    '[可怜]': -1.5,
    '[蜡烛]': -1.5,
    '[哼]': -1.5,
    '[晕]': -1,
    '[汗]': -1,
    '[黑线]': -1,
    '[允悲]': -1,
    '[拜拜]': -0.5,
    '[哈哈]': 2,
    '[嘻嘻]': 2,
    '[笑哈哈]': 2,
    '[偷笑]': 1.5,
    '[赞]': 2.5,
    '[good]': 2.5,
    '[威武]': 2,
    '[给力]': 2,
    '[鼓掌]': 2,
    '[心]': 2,
    '[爱你]': 2,
    '[太开心]': 2.5,
    '[亲亲]': 1.5,
    '[耶]': 1.5,
    '[ok]': 1,
    '[加油]': 1.5,
    '[微笑]': 0,
    '[doge]': 0,
    '[吃瓜]': 0,
  }),
);
