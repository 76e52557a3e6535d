/** The character tables of opencc-js ship without type declarations: each is one string. */
declare module 'opencc-js/dict/*' {
  const dict: string;
  export default dict;
}
