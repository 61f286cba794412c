import { describe, expect, it } from 'vitest';
import { detectPrivacy, isPlausibleBankCard, isValidIdNumber, passesLuhn } from '../../../core/privacy/detect-privacy.js';

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
  ])('does not flag %s (%s)', (text) => {
    expect(kinds(text)).toEqual([]);
  });

  it('reports offsets into the original text even when full-width characters precede', () => {
    const text = `ＡＢＣ，手机１３８１２３４１２３４`;
    const [f] = detectPrivacy(text, { today });
    expect(text.slice(f!.start, f!.end)).toBe('１３８１２３４１２３４');
  });
});
