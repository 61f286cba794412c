import { describe, expect, it } from 'vitest';
import { detectPrivacy, isPlausibleBankCard, isValidIdNumber, passesLuhn } from '../../../core/privacy/detect-privacy.js';
import { labelBefore } from '../../../core/privacy/number-label.js';

const today = new Date('2026-11-25T00:00:00Z');

/** Appends the GB 11643 check character to 17 digits. */
function id(body17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body17].reduce((s, d, i) => s + Number(d) * w[i]!, 0);
  return body17 + '10X98765432'[sum % 11];
}

/** Appends the Luhn check digit. */
function card(body: string): string {
  for (let d = 0; d <= 9; d++) if (passesLuhn(body + d)) return body + d;
  throw new Error('unreachable');
}

const ID = id('35010219900307123'); // 福州, born 1990-03-07
const ID_X = id('11010119800101001'); // ends in X? computed below either way
const CARD = card('622202100112345678'); // 19 digits, 银联 62
const CARD16 = card('436742001234567');
const ID_X_LOWER = '11010519491231002x'; // a valid ID whose check character is X
/** An ID with its last digit mistyped so that it passes Luhn. */
const MISTYPED_ID = [...'0123456789'].map((d) => ID.slice(0, 17) + d).find((s) => s !== ID && passesLuhn(s))!;
/** Digits in groups of four, as printed on a card. */
const fours = (digits: string) => digits.replace(/(\d{4})(?=\d)/g, '$1 ');
/** A bank's transaction serial that happens to pass Luhn with a 银联 prefix (one number in ten does). */
const SERIAL = card('622202123456789012');
/** An all-digit 统一社会信用代码 (9 工商, 1 企业) that passes Luhn. */
const USCC = card('91350100705432123');
/** A Weibo status id: 16 digits starting with 4. */
const WEIBO_MID = card('487654321098765');
const fullWidth = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
const masked = (digits: string) => digits.slice(0, 4) + '*'.repeat(digits.length - 8) + digits.slice(-4);

const kinds = (text: string) => detectPrivacy(text, { today }).map((f) => `${f.kind}:${text.slice(f.start, f.end)}:${f.masked}`);

describe('privacy detectors', () => {
  it('validates ID numbers by checksum, region and birth date', () => {
    expect(isValidIdNumber(ID, today)).toBe(true);
    expect(isValidIdNumber(ID_X, today)).toBe(true);
    expect(isValidIdNumber(ID.slice(0, 17) + (ID[17] === '0' ? '1' : '0'), today)).toBe(false); // wrong check digit
    expect(isValidIdNumber(id('99010219900307123'), today)).toBe(false); // no province 99
    expect(isValidIdNumber(id('35010219900230123'), today)).toBe(false); // 30 February
    expect(isValidIdNumber(id('35010220300101123'), today)).toBe(false); // born in the future
    expect(isValidIdNumber(id('35010218500101123'), today)).toBe(false); // before 1900
  });

  it('accepts bank cards of 16–19 digits with Luhn and a plausible prefix only', () => {
    expect(isPlausibleBankCard(CARD)).toBe(true);
    expect(isPlausibleBankCard(CARD16)).toBe(true);
    expect(isPlausibleBankCard(card('12345678901234'))).toBe(false); // 15 digits
    expect(isPlausibleBankCard(card('122202100112345678'))).toBe(false); // prefix 1
    expect(isPlausibleBankCard('0000000000000000')).toBe(false);
    expect(isPlausibleBankCard(CARD.slice(0, -1) + ((Number(CARD.slice(-1)) + 1) % 10))).toBe(false); // Luhn fails
  });

  it.each([
    // [text, findings as kind:matched:masked]
    [`举报人身份证号${ID}，住址不详`, [`id_card:${ID}:35*************${ID.slice(-3)}`]], // ID with its label
    [`身份证编号：${ID}`, [`id_card:${ID}:35*************${ID.slice(-3)}`]], // 编号 after 身份证 is still an ID
    [`电话13812341234请回电`, ['mobile:13812341234:138****1234']], // glued to Chinese text
    ['联系：138-1234-5678。', ['mobile:138-1234-5678:138****5678']], // dashes
    ['联系：138 1234 5678', ['mobile:138 1234 5678:138****5678']], // spaces
    ['+86 13912345678', ['mobile:+86 13912345678:139****5678']], // country code
    ['８６１３９１２３４５６７８', ['mobile:８６１３９１２３４５６７８:139****5678']], // full-width digits
    [`卡号 ${CARD} 户名张三`, [`bank_card:${CARD}:${CARD.slice(0, 4)}***********${CARD.slice(-4)}`]], // 19-digit card
    [`卡号 ${CARD16.replace(/(\d{4})(?=\d)/g, '$1 ')}`, [`bank_card:${CARD16.replace(/(\d{4})(?=\d)/g, '$1 ')}:${CARD16.slice(0, 4)}********${CARD16.slice(-4)}`]], // grouped in fours
    // A 19-digit 银联 card as printed on it, in fours with three at the end: was missed.
    [`卡号 ${fours(CARD)} 户名张三`, [`bank_card:${fours(CARD)}:${CARD.slice(0, 4)}***********${CARD.slice(-4)}`]],
    [`卡号 ${fours(CARD16)} 123元`, [`bank_card:${fours(CARD16)}:${CARD16.slice(0, 4)}********${CARD16.slice(-4)}`]], // a 16-digit card, then another number
    [`身份证 ${ID_X_LOWER}`, [`id_card:${ID_X_LOWER}:11*************02X`]], // X checksum, written lower case
    ['来信请寄 zhang.san@example.gov.cn 谢谢', ['email:zhang.san@example.gov.cn:z***@example.gov.cn']], // e-mail
    [`手机13812341234，身份证${ID}`, ['mobile:13812341234:138****1234', `id_card:${ID}:35*************${ID.slice(-3)}`]], // two findings in order
    // The label nearest the number decides; a bank serial just before a card does not hide the card.
    [`银行流水号${SERIAL}，我的银行卡号${CARD16}`, [`bank_card:${CARD16}:${masked(CARD16)}`]], // was: both reported as cards
    [`银行卡（卡号：${SERIAL}）`, [`bank_card:${SERIAL}:${masked(SERIAL)}`]], // 卡号 inside brackets
    [`收款账号为 ${SERIAL}`, [`bank_card:${SERIAL}:${masked(SERIAL)}`]], // 账号 with 为
    [`补贴请打到我的银行卡号：\n${fours(CARD)}`, [`bank_card:${fours(CARD)}:${masked(CARD)}`]], // grouped, after a line break
    [`QQ/手机：13812341234`, ['mobile:13812341234:138****1234']], // the nearest word is 手机, not QQ
    [`身份证号码是：${ID_X_LOWER}`, [`id_card:${ID_X_LOWER}:11*************02X`]], // 是 and a full-width colon; lower-case x
    // Full-width digits grouped by ideographic spaces, as typed with a Chinese IME (the classify command gets them unnormalized): was missed.
    [`卡号：${fullWidth(fours(CARD)).replace(/ /g, '\u3000')}`, [`bank_card:${fullWidth(fours(CARD)).replace(/ /g, '\u3000')}:${masked(CARD)}`]],
  ])('finds %s', (text, expected) => {
    expect(kinds(text)).toEqual(expected);
  });

  it.each([
    // [text, why it is not personal data]
    [`订单号：${ID}`, 'an order number that happens to pass the ID checks'],
    [`快递单号 ${CARD}`, 'a tracking number passing Luhn'],
    ['时间戳 1732512345678', 'a 13-digit millisecond timestamp'],
    ['1732512345', 'a 10-digit second timestamp'],
    ['订单号13812341234', 'an 11-digit order number shaped like a phone'],
    [`编号9${ID}`, 'an ID glued to a longer digit run'],
    ['201381234123456', 'a phone number embedded in a longer number'],
    ['A13812341234', 'a phone number glued to letters (a product code)'],
    ['3.13812341234', 'digits after a decimal point'],
    ['12:13812341234', 'digits after a time separator'],
    [`${ID.slice(0, 17)}${ID[17] === '1' ? '2' : '1'}`, 'an 18-digit run failing the checksum'],
    ['20241125123045678901', 'a 20-digit run is neither ID nor card'],
    ['4111111111111112', 'a 16-digit run failing Luhn'],
    [`身份证 ${id('35010219900007123')}`, 'an ID born in month 0 (it passes Luhn: was taken for a bank card)'],
    [MISTYPED_ID, 'an ID with a wrong check digit that passes Luhn (was taken for a bank card)'],
    [`${fours(CARD16.slice(0, 15) + ((Number(CARD16[15]) + 1) % 10))} 12`, 'four groups failing Luhn, then more digits'],
    ['12000000000', 'an 11-digit run not in a mobile segment (12x)'],
    ['邮箱：@example.com', 'no local part'],
    ['version 1.2.3@beta', 'no top-level domain'],
    // Numbers the label nearest them names as something else; 银行 in front no longer makes a serial a card (each was reported).
    [`银行流水号：${SERIAL}`, 'a bank transaction serial'],
    [`银行交易流水 ${SERIAL}`, 'a bank transaction serial, spelled out'],
    [`银行订单号为${SERIAL}`, 'a bank order number, with 为'],
    [`银行回单编号：${SERIAL}`, 'a bank receipt number'],
    [`银行卡已挂失，流水号：${SERIAL}`, 'a serial after a sentence about a card'],
    [`商户单号（${SERIAL}）`, 'a merchant order number in brackets'],
    [`发票号码：${SERIAL}`, 'an invoice number (发票 + 号码)'],
    [`发票代码 ${SERIAL}`, 'an invoice code'],
    [`统一社会信用代码：${USCC}`, 'an all-digit unified social credit code passing Luhn'],
    [`Order No. ${SERIAL}`, 'an order number labelled in English'],
    [`No.${SERIAL}`, 'a number labelled No.'],
    ['QQ号13812345678', 'an 11-digit QQ number'],
    ['有事加QQ：13812341234', 'a QQ number after a full-width colon'],
    [`原帖 https://m.weibo.cn/status/${WEIBO_MID} 已删`, 'a Weibo status id in a link'],
    [`https://shop.example.com/order?id=${SERIAL}`, 'an order id in a link query'],
    // Labels the old words already covered: kept.
    [`支付宝交易号：${SERIAL}`, 'an Alipay trade number'],
    [`微信支付单号：${SERIAL}`, 'a WeChat Pay order number'],
    [`退款单号是${SERIAL}`, 'a refund number'],
    [`投诉工单号：${SERIAL}`, 'a 12345 hotline ticket'],
    [`案件编号：${ID}`, 'a case number shaped like an ID'],
    ['车架号：LSVAU2180N2183294', 'a VIN'],
    ['电话：0838-6213456', 'a landline with its area code is not a mobile'],
  ])('does not flag %s (%s)', (text) => {
    expect(kinds(text)).toEqual([]);
  });

  it.each([
    // [text before the number, the label it gives]
    ['银行流水号：', 'other'], // 流水号, not 银行
    ['银行卡号：', 'personal'],
    ['身份证编号：', 'id'], // 身份证, not 编号
    ['发票号码 ', 'other'], // 发票, not 号码
    ['手机号码为', 'personal'],
    ['号码：', undefined], // a generic word alone says nothing
    ['卡号：123，订单号：', 'other'], // only the nearest label counts
    ['订单号：123，卡号：', 'personal'],
    ['卡号（', 'personal'],
    ['卡号\n', 'personal'],
    ['我叫Kevin ', undefined], // not VIN
    ['', undefined],
  ] as const)('labelBefore(%j) is %s', (before, label) => {
    expect(labelBefore(`${before}6222021234567890128`, before.length)).toBe(label);
  });

  it('reports offsets into the original text even when full-width characters precede', () => {
    const text = `ＡＢＣ，手机１３８１２３４１２３４`;
    const [f] = detectPrivacy(text, { today });
    expect(text.slice(f!.start, f!.end)).toBe('１３８１２３４１２３４');
  });
});
