// Builds static/build/ from GOV.UK Frontend and our Sass. Output is not committed.
// The GOV.UK crown and the GDS Transport font are for gov.uk only, so neither
// is copied: the Sass sets Arial and we ship our own favicon.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "build");
const govuk = join(here, "..", "node_modules", "govuk-frontend", "dist", "govuk");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const css = sass.compile(join(here, "scss", "portal.scss"), {
  loadPaths: [join(here, "..", "node_modules")],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "portal.css"), css.css);
cpSync(join(govuk, "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
// GOV.UK Frontend's CSS names the royal crest (footer copyright logo), which
// we may not use and do not show. An empty image stands in for it, so that
// collectstatic's manifest (production) finds every file the CSS names.
const images = join(out, "assets", "images");
mkdirSync(images, { recursive: true });
writeFileSync(
  join(images, "govuk-crest.svg"),
  '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n',
);
console.log(`Built ${out}`);
