// Video sources on the frame page: "Play video" puts the browser's own player over the source's stage, seeks
// to the frame (the source's timestamp) and plays from there; pressing it again goes back to the frame with its
// ROIs. The media proxy answers byte ranges, so the player fetches only what it needs to seek.

function playerFor(figure, video) {
  const player = document.createElement("video");
  player.className = "fv-video";
  player.controls = true;
  player.playsInline = true;
  player.preload = "auto";
  player.src = video.url;
  const note = document.createElement("div");
  note.className = "fv-video-note";
  note.hidden = true;
  player.addEventListener("loadedmetadata", () => {
    player.currentTime = Math.min(video.start, Number.isFinite(player.duration) ? player.duration : video.start);
  }, { once: true });
  player.addEventListener("seeked", () => {
    figure.dataset.seekedTo = String(player.currentTime); // where the player stood when it started (tests read it)
    player.play().catch(() => {});
  }, { once: true });
  player.addEventListener("error", () => {
    note.hidden = false;
    note.textContent = "Your browser cannot play this video's format; the frame itself is shown by a worker's rendition.";
  });
  figure.querySelector(".fv-viewport").append(player, note);
  return player;
}

/** Wire every "Play video" button of the page (`page.contract.sources[i].video` says what to play). */
export function attachVideo(page) {
  for (const button of page.root.querySelectorAll("[data-play-video]")) {
    const view = page.views.find((v) => v.id === button.dataset.playVideo);
    if (!view?.media.video) continue;
    let player = null;
    button.addEventListener("click", () => {
      const playing = !player || player.hidden;
      if (!player) player = playerFor(view.figure, view.media.video);
      else if (playing) {
        player.currentTime = view.media.video.start;
        player.play().catch(() => {});
      } else {
        player.pause();
      }
      player.hidden = !playing;
      view.figure.dataset.playing = String(playing);
      button.textContent = playing ? "■ Back to the frame" : "▶ Play video";
      button.setAttribute("aria-pressed", String(playing));
    });
  }
}
