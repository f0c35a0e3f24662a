// @novnc/novnc 1.7 exports its RFB class as the package itself ("exports": "./core/rfb.js");
// @types/novnc__novnc declares it under the old path '@novnc/novnc/lib/rfb'.
/// <reference types="novnc__novnc" />

declare module '@novnc/novnc' {
  import RFB from '@novnc/novnc/lib/rfb';
  export default RFB;
}
