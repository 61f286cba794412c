/**
 * Stable error codes from the API (`{ error: { code, message } }`, see core/errors.ts) in the words
 * staff read. A refusal (409) or a code missing here shows the Chinese part of the server's message
 * when it has one, since it names the reason (预案尚有未完成的步骤：…); otherwise a generic sentence by
 * HTTP status. The server's English detail is never shown here.
 */
const ERROR_TEXT: Record<string, string> = {
  network: '无法连接服务器，请检查网络后重试',
  unauthenticated: '请先登录，或用户名密码错误',
  forbidden: '当前角色无权执行此操作',
  not_found: '未找到该记录，可能已被删除',
  conflict: '该记录刚被他人修改，请刷新后重试',
  invalid_input: '提交的内容不完整或格式不对',
  invalid_body: '提交的内容不完整或格式不对',
  invalid_json: '提交的内容格式不对',
  payload_too_large: '提交的内容过大',
  illegal_transition: '当前状态下不能执行此操作',
  stale: '该记录已被他人更新，请刷新后重试',
  locked: '登录失败次数过多，账号已暂时锁定，请稍后再试',
  too_many_requests: '操作过于频繁，请稍后再试',
  rule_pack_yaml: '规则包 YAML 格式有误',
  rule_pack_invalid: '规则包内容不符合要求',
  rule_pack_version: '规则包已被他人保存了新版本，请重新载入后再改',
  rule_pack_unchanged: '规则包内容没有变化，无需保存',
  rule_pack_exists: '已有同编号的规则包，请打开它编辑',
  elasticsearch_unavailable: '检索服务暂不可用，请稍后重试',
  write_not_stored: '操作未能保存，请重试',
  write_outcome_unknown: '未能确认操作是否已保存，请刷新查看后再操作',
  redis_unavailable: '队列服务暂不可用，请稍后重试',
  unavailable: '服务暂不可用，请稍后重试',
  internal: '系统内部错误，请联系管理员',
};

const BY_STATUS: Record<number, string> = {
  400: '提交的内容不完整或格式不对',
  401: '请先登录',
  403: '当前角色无权执行此操作',
  404: '未找到该记录',
  409: '该记录刚被他人修改，请刷新后重试',
  429: '操作过于频繁，请稍后再试',
  503: '服务暂不可用，请稍后重试',
};

export function errorText(code: string, status: number, serverMessage?: string): string {
  const own = status >= 400 && status < 500 && (status === 409 || !(code in ERROR_TEXT)) ? chineseOf(serverMessage) : undefined;
  return own ?? ERROR_TEXT[code] ?? BY_STATUS[status] ?? `请求失败（${status || '网络'}）`;
}

/** `预案尚有未完成的步骤：报告领导 (plan steps not completed)` → the sentence before the English detail. */
function chineseOf(message: string | undefined): string | undefined {
  if (!message || !/[\u4e00-\u9fff]/.test(message)) return undefined;
  return message.replace(/\s*\([\x20-\x7e]*\)\s*$/, '').trim() || undefined;
}
