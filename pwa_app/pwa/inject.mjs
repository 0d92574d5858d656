// Writes the precache manifest into the bundled service worker (run by the PWA plugin with Node, in .web/): every
// language's pages too, which the service worker stores only for the languages a citizen reads (sw.js).
import { injectManifest } from "workbox-build";

const [swSrc, swDest, globDirectory] = process.argv.slice(2);
const { count, size, warnings } = await injectManifest({
  swSrc,
  swDest,
  globDirectory,
  // Each page once, as <route>/index.html (its <route>.html twin is the same page), plus the app shell.
  globPatterns: ["**/index.html", "__spa-fallback.html", "**/*.{js,css,png,ico,svg,webmanifest,json}"],
  // The SW itself and the unbundled sources of the data module at the root (pages use their bundled chunks),
  // compressed twins, and the 404 copy of the shell.
  // Staff pages work online only (Reflex state, a signed-in session): citizens' phones need none of them.
  // (their routes, and the module of memoized staff components they share: 490 KB).
  globIgnores: ["*.js", "404.html", "**/*.gz", "**/*.br", "reflex.json", "robots.txt", "staff/**", "assets/_staff_*",
    "assets/staff-*"],
  // Vite's hashed file names already change with their content.
  dontCacheBustURLsMatching: /\/assets\/.+-[A-Za-z0-9_-]{8}\.(js|css)$/,
  maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
});
for (const w of warnings) console.warn(w);
console.log(`service worker: ${count} files precached, ${(size / 1024).toFixed(0)} KiB`);
