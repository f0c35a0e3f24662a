/// <reference types="vite/client" />

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

interface Window {
  /** The Electron preload's bridge (see api/endpoint.ts); undefined in a browser. */
  dom0?: import('./api/endpoint.js').Dom0Bridge;
}
