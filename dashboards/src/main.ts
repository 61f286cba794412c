import { createApp } from 'vue';
import 'element-plus/dist/index.css';
import './styles/app.css';
import App from './App.vue';
import { router } from './router.js';
import { onUnauthenticated } from './api/client.js';
import { forgetSession } from './session/session.js';

onUnauthenticated(() => {
  forgetSession();
  const current = router.currentRoute.value;
  if (!current.meta.public) void router.push({ name: 'login', query: { redirect: current.fullPath, expired: '1' } });
});

createApp(App).use(router).mount('#app');
