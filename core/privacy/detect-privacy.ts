import type { AlertLevel } from '../rules/rule-pack.js';
import { labelBefore } from './number-label.js';

/**
 * 个人信息泄露: ID numbers, mobile numbers, bank cards and e-mail addresses in published text.
 *
 * Each candidate must stand alone (no letter or digit glued to either side, so a run embedded in a
 * longer number is never a match), pass its own validation (GB 11643 checksum + region + birth date;
 * mobile number segment; Luhn + plausible card prefix), and must not be named as something else by
 * the label nearest before it (订单号, 银行流水号, 时间戳 …: `labelBefore`). A finding never carries
 * the value itself, only its offsets in the original text and the masked form to publish instead.
 */
export type PrivacyKind = 'id_card' | 'mobile' | 'bank_card' | 'email';

export interface PrivacyFinding {
  kind: PrivacyKind;
  /** 身份证号 / 手机号 / 银行卡号 / 电子邮箱 */
  label: string;
  /** UTF-16 offsets into the text given; `end` is exclusive. */
  start: number;
  end: number;
  /** The masked form, to be published instead (the suggestion). */
  masked: string;
  level: AlertLevel;
}

export const PRIVACY_LABELS: Record<PrivacyKind, string> = { id_card: '身份证号', mobile: '手机号', bank_card: '银行卡号', email: '电子邮箱' };
/** An ID or card number in public is serious (二级); a phone number less so; an e-mail address is often a published contact. */
export const PRIVACY_LEVELS: Record<PrivacyKind, AlertLevel> = { id_card: 2, bank_card: 2, mobile: 3, email: 4 };

/** Province-level codes of GB/T 2260 (and 71 台湾, 81 香港, 82 澳门, 83 for residence permits). */
const PROVINCES = new Set([11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83]);
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** 18 characters with a province code and a real birth date: an ID number, or one mistyped in its last digit. */
function hasIdShape(id: string, today: Date): boolean {
  if (!/^\d{17}[\dXx]$/.test(id)) return false;
  if (!PROVINCES.has(Number(id.slice(0, 2)))) return false;
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  const birth = new Date(Date.UTC(year, month - 1, day));
  return birth.getUTCMonth() === month - 1 && birth.getUTCDate() === day && birth.getTime() <= today.getTime();
}

export function isValidIdNumber(id: string, today: Date = new Date()): boolean {
  if (!hasIdShape(id, today)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11] === id[17]!.toUpperCase();
}

export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Card numbers are 16–19 digits; issuers' prefixes start with 3 (JCB), 4 (Visa), 5 (Mastercard), 6 (银联 62) or 9 (domestic debit). */
export function isPlausibleBankCard(digits: string): boolean {
  if (!/^\d{16,19}$/.test(digits) || !/^[34569]/.test(digits)) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  return passesLuhn(digits);
}

function mask(value: string, keepStart: number, keepEnd: number): string {
  return value.slice(0, keepStart) + '*'.repeat(Math.max(0, value.length - keepStart - keepEnd)) + value.slice(value.length - keepEnd);
}

/** Full-width digits and letters → ASCII, full-width and no-break spaces → space, one code unit for one, so offsets are unchanged. */
function foldWidth(text: string): string {
  return text
    .replace(/[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0b\uff0d\uff20\uff0e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[\u3000\u00a0]/g, ' ');
}

/** A link running up to `start` (a Weibo status id, an order id in a query): its digits pass Luhn as often as any. */
const LINK_BEFORE = /(?:[a-z][a-z0-9+.-]*:\/\/|www\.)[\w\-.~:/?#[\]@!$&()*+,;=%]*$/i;

const ID_RE = /(?<![0-9A-Za-z])(?<!\d[.:])\d{17}[\dXx](?![0-9A-Za-z])/g;
const MOBILE_RE = /(?<![0-9A-Za-z+])(?<!\d[.:])(?:(?:\+|00)?86[- ]?)?(1[3-9]\d)([- ]?)(\d{4})\2(\d{4})(?![0-9A-Za-z])(?!\.\d)/g;
/** 16–19 digits, or grouped in fours by one kind of separator (a 19-digit 银联 card prints as 4-4-4-4-3, or 4-4-4-7). */
const CARD_RE = /(?<![0-9A-Za-z])(?<!\d[.:])(?:\d{16,19}|\d{4}([- ])\d{4}\1\d{4}\1(?:\d{4}\1\d{1,3}|\d{4,7}))(?![0-9A-Za-z])(?!\.\d)/g;
const EMAIL_RE = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

export interface PrivacyOptions {
  /** Birth dates after this day are not valid (default: now). */
  today?: Date;
}

/** Every finding in `text`, ordered by start offset. */
export function detectPrivacy(original: string, options: PrivacyOptions = {}): PrivacyFinding[] {
  const today = options.today ?? new Date();
  const text = foldWidth(original);
  const findings: PrivacyFinding[] = [];
  const taken: [number, number][] = [];
  const overlaps = (s: number, e: number) => taken.some(([a, b]) => s < b && a < e);
  const add = (kind: PrivacyKind, start: number, end: number, masked: string) => {
    taken.push([start, end]);
    findings.push({ kind, label: PRIVACY_LABELS[kind], start, end, masked, level: PRIVACY_LEVELS[kind] });
  };

  for (const m of text.matchAll(ID_RE)) {
    const id = m[0];
    if (isValidIdNumber(id, today) && labelBefore(text, m.index) !== 'other') add('id_card', m.index, m.index + id.length, mask(id.toUpperCase(), 2, 3));
  }
  for (const m of text.matchAll(CARD_RE)) {
    const start = m.index;
    // Four groups and a short one may be a 16-digit card followed by another number ("… 5671 123元").
    const forms = m[1] && m[0].length > 19 ? [m[0], m[0].slice(0, 19)] : [m[0]];
    const form = forms.find((f) => isPlausibleBankCard(f.replace(/[- ]/g, '')));
    if (!form || overlaps(start, start + form.length)) continue;
    const label = labelBefore(text, start);
    // Not a card: one named as something else or as an ID number, one shaped like an ID number (a
    // typo in its check digit passes Luhn one time in ten), one inside a link.
    if (label === 'other' || label === 'id' || hasIdShape(form, today) || LINK_BEFORE.test(text.slice(Math.max(0, start - 200), start))) continue;
    add('bank_card', start, start + form.length, mask(form.replace(/[- ]/g, ''), 4, 4));
  }
  if (text.includes('1')) {
    for (const m of text.matchAll(MOBILE_RE)) {
      const start = m.index;
      const end = start + m[0].length;
      if (overlaps(start, end) || labelBefore(text, start) === 'other') continue;
      const number = `${m[1]}${m[3]}${m[4]}`;
      add('mobile', start, end, mask(number, 3, 4));
    }
  }
  if (text.includes('@')) {
    for (const m of text.matchAll(EMAIL_RE)) {
      const at = m[0].indexOf('@');
      add('email', m.index, m.index + m[0].length, `${m[0][0]}***${m[0].slice(at)}`);
    }
  }
  return findings.sort((a, b) => a.start - b.start);
}
