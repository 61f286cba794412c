/**
 * The label a number is given in the text: the word nearest before it, past what may stand between
 * label and number (colons, spaces and line breaks, 为 / 是, opening brackets, #).
 *
 * Only the nearest word counts, and the longest label ending there: 银行流水号 is a 流水号 (a bank's
 * transaction serial, not a card), 银行卡号 a 卡号, 身份证编号 an ID number, not an 编号. A label
 * further back says nothing about this number ("银行卡号：…，流水号：…"). A number with no label
 * before it gets `undefined` and is judged by its own checks alone.
 */
export type NumberLabel =
  /** 身份证号码, 证件号 …: given as an ID number, so never taken for a card. */
  | 'id'
  /** 卡号, 银行账号, 手机号 …: given as personal data. */
  | 'personal'
  /** 订单号, 流水号, 快递单号, 发票号码, QQ号, 统一社会信用代码 …: named as something else. */
  | 'other';

/** The generic words for "number" that the word before them qualifies (身份证 + 号码, 发票 + 号码). */
const TAIL = '(?:号码|编号|代码|代号|号|码)';
const ENGLISH_TAIL = '(?:\\s*(?:no\\.?|number|id|#))?';

const ID = new RegExp(`(?:身份证|居民身份|公民身份|身份|证件)${TAIL}?$`);
const PERSONAL = new RegExp(
  `(?:(?:银行|信用|借记|储蓄|社保|医保)?卡|(?:银行|收款|付款|转账|汇款)?(?:账|帐)(?:号|户)|手机|电话|联系方式|联系|邮箱|微信)${TAIL}?$|(?<![a-z])(?:phone|mobile|tel|card|account)${ENGLISH_TAIL}$`,
  'i',
);
const OTHER = new RegExp(
  [
    // Bills, payments, deliveries, cases, documents, things, codes and times, with or without a
    // generic word: 订单号, 银行流水号, 银行交易流水, 快递单号, 工单号, 案件编号, 发票号码, 车架号,
    // 统一社会信用代码, 时间戳.
    `(?:订单|流水|批次|序列|凭证|回单|票据|商户|运单|快递|物流|工单|案件|发票|合同|车架|车辆识别|信用|条形|时间戳)${TAIL}?$`,
    // Stems that name a number only with a generic word after them: 商户单号, 退款单号, 微信支付单号,
    // 支付宝交易号, 交易参考号, 票号, 案号, 文号, 纳税人识别号, 条码.
    `(?:单|交易|批|序|参考|终端|授权|票|案|文|识别|条)${TAIL}$`,
    // A generic word alone: 编号, 代码.
    '(?:编号|代码|代号)$',
    // Latin words standing alone: QQ号, VIN, No., Order No.
    `(?<![a-z])(?:qq${TAIL}?|vin|no\\.?|(?:order|serial|tracking|invoice|timestamp)${ENGLISH_TAIL})$`,
  ].join('|'),
  'i',
);

/** What may stand between a label and its number. */
const BETWEEN = /(?:[\s:：#＃=＝(（[【「『〔<《"“]|为|是|如下)*$/;
/** The longest label and what may follow it fit in this many characters. */
const REACH = 32;

export function labelBefore(text: string, start: number): NumberLabel | undefined {
  const head = text.slice(Math.max(0, start - REACH), start).replace(BETWEEN, '');
  if (head.length === 0) return undefined;
  let best: NumberLabel | undefined;
  let bestLength = 0;
  for (const [label, re] of [['id', ID], ['personal', PERSONAL], ['other', OTHER]] as const) {
    const m = re.exec(head);
    if (m && m[0].length > bestLength) {
      best = label;
      bestLength = m[0].length;
    }
  }
  return best;
}
