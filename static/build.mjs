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
console.log(`Built ${out}`);
