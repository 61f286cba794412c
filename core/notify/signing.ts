import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * DingTalk robot 加签: `sign = urlEncode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret)))`,
 * appended to the webhook URL with the millisecond timestamp. The robot refuses a timestamp more
 * than an hour away from its clock.
 */
export function signDingTalkUrl(url: string, secret: string, timestampMs: number): string {
  const sign = createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
  const u = new URL(url);
  u.searchParams.set('timestamp', String(timestampMs));
  u.searchParams.set('sign', sign);
  return u.toString();
}

/** Our generic webhook's signature: `v1=` + hex HMAC-SHA256 over `timestamp.body`, sent as `X-Qianshao-Signature`. */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): checks a signature in constant time and refuses stale timestamps. */
export function verifyWebhookSignature(secret: string, timestampSeconds: number, body: string, signature: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!Number.isFinite(timestampSeconds) || Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) return false;
  const expected = Buffer.from(webhookSignature(secret, timestampSeconds, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
