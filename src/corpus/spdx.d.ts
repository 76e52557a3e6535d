/** spdx-expression-parse ships without type declarations: it returns the parsed tree or throws. */
declare module 'spdx-expression-parse' {
  function parse(expression: string): unknown;
  export default parse;
}
