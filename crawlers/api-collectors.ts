import type { Redis } from 'ioredis';
import type { ApiCollectors } from './crawl-position.js';
import { AccessTokens, MemoryAccessTokenStore, RedisAccessTokenStore } from './wechat-mp/access-token.js';
import { createWechatMpCollector } from './wechat-mp/collect.js';
import { createWeiboCollector } from './weibo/collect.js';

/**
 * The collectors of API kinds for one process. With Redis, WeChat access tokens are shared by every
 * crawl worker of the deployment (each `cgi-bin/token` call invalidates the previous token);
 * without it (the one-off CLI) they live in memory.
 */
export function createApiCollectors(deps: { redis?: Redis; prefix: string; /** Pause between Weibo requests (tests shorten it). */ weiboPauseMs?: number }): ApiCollectors {
  const store = deps.redis ? new RedisAccessTokenStore(deps.redis, deps.prefix) : new MemoryAccessTokenStore();
  return {
    'wechat-mp': createWechatMpCollector({ tokens: new AccessTokens({ store }) }),
    weibo: createWeiboCollector(deps.weiboPauseMs !== undefined ? { pauseMs: deps.weiboPauseMs } : {}),
  };
}
