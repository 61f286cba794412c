import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, started the way this closed network needs (no background connections). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * APIs the dashboard already calls that other work has not landed yet; the pages show "接口尚未启用"
 * for them. Remove an entry when its API lands.
 */
export const PENDING_APIS: RegExp[] = [];

/** A page at the size of a duty officer's 1366×768 screen that collects script errors and CSP violations. */
export async function openPage(browser: Browser, viewport = { width: 1366, height: 768 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // 401s are expected (the session probe before login, a wrong password); 403 when a test checks a refusal.
    if (/status of 40[13]/.test(msg.text())) return;
    if (/status of 404/.test(msg.text()) && PENDING_APIS.some((re) => re.test(msg.location().url))) return;
    errors.push(`${msg.text()} (${msg.location().url})`);
  });
  return { page, errors };
}

export async function logIn(page: Page, baseUrl: string, username: string, password = 'qianshao-demo'): Promise<void> {
  await page.goto(new URL('/login', baseUrl).toString());
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');

/** Saves a screenshot as a test artifact (test-results/ is not committed). */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
