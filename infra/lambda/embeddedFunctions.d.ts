/**
 * The user's registry module of an embedded-functions dispatcher. Not a real package: the
 * StatefulFunctions construct aliases this name to `embeddedFunctions.entry` when esbuild
 * bundles `embeddedDispatcher.ts`.
 */
declare module 'statefun-embedded-functions' {
  const exported: { readonly [name: string]: unknown };
  export = exported;
}
