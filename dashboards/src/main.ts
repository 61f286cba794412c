import { createApp } from 'vue';
import 'element-plus/theme-chalk/base.css';
import './styles/app.css';
import App from './App.vue';
import { router } from './router.js';
import { onUnauthenticated } from './api/client.js';
import { forgetSession, probeSession } from './session/session.js';
import { prefetchWall } from './pages/wall/wall-api.js';

onUnauthenticated(() => {
  forgetSession();
  const current = router.currentRoute.value;
  if (!current.meta.public) void router.push({ name: 'login', query: { redirect: current.fullPath, expired: '1' } });
});

// The session check goes out first, before any route's code is requested: on HTTP/1.1 the browser
// opens six connections per host, and the wall's ~35 code chunks queued it for 250–300 ms (cold
// Chromium, bench/wall.bench.ts). The router's guard awaits this same request.
if (!router.resolve(location.pathname).meta.public) probeSession().catch(() => undefined);

// Opening on the wall (a duty desk or a wall display): fetch its data and code while the session
// is checked, instead of one after the other.
if (/^\/wall(\/|$)/.test(location.pathname)) {
  prefetchWall();
  void import('./layout/AppLayout.vue');
  void import('./pages/wall/WallPage.vue');
}

createApp(App).use(router).mount('#app');
