import { createApp } from 'vue'
import urql from '@urql/vue'
import App from './App.vue'
import { router } from './router'
import { client } from './api/client'
import './style.css'

createApp(App).use(router).use(urql, client).mount('#app')
