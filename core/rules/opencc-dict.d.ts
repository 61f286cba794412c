/** opencc-js ships its dictionaries as "trad simp[ alt]|…" strings without type declarations. */
declare module 'opencc-js/dict/TSCharacters' {
  const dict: string;
  export default dict;
}
