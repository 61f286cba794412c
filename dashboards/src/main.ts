import { createApp } from 'vue';
import 'element-plus/theme-chalk/base.css';
import './styles/app.css';
import App from './App.vue';
import { router } from './router.js';
import { onUnauthenticated } from './api/client.js';
import { forgetSession } from './session/session.js';
import { prefetchWall } from './pages/wall/wall-api.js';

onUnauthenticated(() => {
  forgetSession();
  const current = router.currentRoute.value;
  if (!current.meta.public) void router.push({ name: 'login', query: { redirect: current.fullPath, expired: '1' } });
});

// Opening on the wall (a duty desk or a wall display): fetch its data and code while the session
// is checked, instead of one after the other.
if (/^\/wall(\/|$)/.test(location.pathname)) {
  prefetchWall();
  void import('./layout/AppLayout.vue');
  void import('./pages/wall/WallPage.vue');
}

createApp(App).use(router).mount('#app');
