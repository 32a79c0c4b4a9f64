import { createRouter, createWebHistory } from 'vue-router'
import { session } from './api/client'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', redirect: '/board' },
    { path: '/sign-in', component: () => import('./views/SignIn.vue'), meta: { public: true } },
    { path: '/sign-up', component: () => import('./views/SignUp.vue'), meta: { public: true } },
    { path: '/accept-invitation', component: () => import('./views/AcceptInvitation.vue'), meta: { public: true } },
    { path: '/reset-password', component: () => import('./views/ResetPassword.vue'), meta: { public: true } },
    { path: '/board', component: () => import('./views/Board.vue') },
    { path: '/contacts', component: () => import('./views/Contacts.vue') },
    { path: '/contacts/:id', component: () => import('./views/ContactPage.vue'), props: true },
    { path: '/deals/:id', component: () => import('./views/DealPage.vue'), props: true },
    { path: '/companies', component: () => import('./views/Companies.vue') },
    { path: '/companies/:id', component: () => import('./views/CompanyPage.vue'), props: true },
    { path: '/settings', component: () => import('./views/Settings.vue') },
    { path: '/templates', component: () => import('./views/Templates.vue') },
    { path: '/webhooks', component: () => import('./views/Webhooks.vue') },
    { path: '/tasks', component: () => import('./views/Tasks.vue') },
    { path: '/analytics', component: () => import('./views/Analytics.vue') },
    { path: '/import', component: () => import('./views/Import.vue') },
    { path: '/graphiql', component: () => import('./views/Playground.vue') },
    { path: '/:rest(.*)*', component: () => import('./views/NotFound.vue'), meta: { public: true } },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !session.signedIn) return { path: '/sign-in', query: { next: to.fullPath } }
  return true
})

session.onChange((signedIn) => {
  if (!signedIn) void router.push('/sign-in')
})
