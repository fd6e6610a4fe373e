// Split Preview (templates/viewer/version_split.html): both sides' thumbnails with their ROIs and fitted label
// chips, as on the Frames tab (tiles.js).

import { setupChips, setupTileRois } from "./tiles.js";

setupTileRois(".split-grid [data-frame-id]");
setupChips(".split-grid .tile-info .chips", document.querySelector(".split-form"));
