import { describe, expect, it } from 'vitest';
import { errorText } from '../../../dashboards/src/api/error-text.js';

describe('errorText: what staff read when the API refuses', () => {
  it.each([
    // a refusal names its reason: the Chinese sentence, without the English detail
    ['plan_incomplete', 409, '预案尚有未完成的步骤：报告领导、总结评估 (plan steps not completed)', '预案尚有未完成的步骤：报告领导、总结评估'],
    ['illegal_transition', 409, '预警当前状态为「已办结」，不能签收 (cannot acknowledge an alert that is closed)', '预警当前状态为「已办结」，不能签收'],
    // a known code keeps its own words outside refusals
    ['forbidden', 403, '需要权限 alert.close (missing permission)', '当前角色无权执行此操作'],
    // English only: never shown, the code's words instead
    ['conflict', 409, 'version conflict', '该记录刚被他人修改，请刷新后重试'],
    // server errors never leak their message
    ['some_failure', 500, '内部细节 (stack)', '请求失败（500）'],
    // an unknown 4xx code with a Chinese message shows it
    ['quota', 429, '今日导出次数已用完 (quota)', '今日导出次数已用完'],
  ])('%s %d', (code, status, message, expected) => {
    expect(errorText(code, status, message)).toBe(expected);
  });
});
