// The bundled game's replay viewer: fetches the match's dump from the URL the site
// gives (data-dump-url) and shows a tictactoe board turn by turn. The dump is
// {"game": "tictactoe", "players": [...], "states": [{"turn", "board", "last_move",
// "to_play", "winner"}]} (docs/refgame.md); anything else gets a message and the
// download link. It plays by itself at a chosen speed, follows the arrow keys, and
// the address names the turn shown (#turn=12, the match page's address too when
// the viewer is in its frame), so that a link opens the replay at that turn.
(function () {
  "use strict";
  const root = document.getElementById("replay");
  const players = JSON.parse(document.getElementById("replay-players").textContent);
  const message = document.getElementById("replay-message");
  const board = document.getElementById("replay-board");
  const controls = document.getElementById("replay-controls");
  const turn = document.getElementById("replay-turn");
  const caption = document.getElementById("replay-caption");
  const playButton = document.getElementById("replay-play");
  const speed = document.getElementById("replay-speed");
  const turnLink = document.getElementById("replay-link");
  const marks = ["X", "O"];
  const TURN_IN_HASH = /^#turn=(\d+)$/;
  // The page's texts, in the reader's language (replay.html); {name} marks a value.
  const texts = JSON.parse(document.getElementById("replay-texts").textContent);

  function text(key, values) {
    return texts[key].replace(/\{(\w+)\}/g, (_, name) => values[name]);
  }

  function say(text) {
    message.textContent = text + " ";
    const link = document.createElement("a");
    link.href = root.dataset.downloadUrl;
    link.target = "_top";
    link.textContent = texts.download;
    message.appendChild(link);
  }

  function isBoard(board) {
    return Array.isArray(board) && board.length === 3 &&
      board.every(function (row) { return Array.isArray(row) && row.length === 3; });
  }

  function tictactoeStates(dump) {
    if (!dump || dump.game !== "tictactoe" || !Array.isArray(dump.states) ||
        dump.states.length === 0) return null;
    const wellFormed = dump.states.every(function (state) {
      return state !== null && typeof state === "object" && isBoard(state.board);
    });
    return wellFormed ? dump.states : null;
  }

  function show(states, seats, index) {
    const state = states[index];
    function seatName(seat) {
      return (seats[seat] || text("player", {seat: seat})) + " (" + marks[seat] + ")";
    }
    board.textContent = "";
    state.board.forEach(function (row, r) {
      row.forEach(function (cell, c) {
        const div = document.createElement("div");
        div.className = "cell";
        if (cell === 0 || cell === 1) {
          div.textContent = marks[cell];
          div.classList.add("p" + cell);
        }
        const last = state.last_move;
        if (Array.isArray(last) && last[0] === r && last[1] === c) div.classList.add("last");
        board.appendChild(div);
      });
    });
    turn.textContent = text("state", {index: index + 1, total: states.length}) +
      (state.turn !== undefined ? text("turn", {turn: state.turn}) : "");
    if (index === states.length - 1 && "winner" in state) {
      caption.textContent = state.winner === null ? texts.draw
        : text("wins", {seat: seatName(state.winner)});
    } else if (state.to_play === 0 || state.to_play === 1) {
      caption.textContent = text("to_play", {seat: seatName(state.to_play)});
    } else {
      caption.textContent = "";
    }
  }

  // The page holding the viewer: the match page when framed by it (same origin), so
  // that its address names the turn too; the viewer's own page otherwise.
  function addressed() {
    try {
      if (window.top !== window && window.top.location.origin === location.origin) {
        return window.top;
      }
    } catch (e) { /* another origin frames the viewer: keep to our own address */ }
    return window;
  }

  function turnOf(states, index) {
    const turn = states[index].turn;
    return Number.isInteger(turn) ? turn : index;
  }

  // The state the address names (#turn=12), or null.
  function indexInAddress(states) {
    const wanted = TURN_IN_HASH.exec(addressed().location.hash);
    if (!wanted) return null;
    const turn = Number(wanted[1]);
    const index = states.findIndex(function (state, i) { return turnOf(states, i) === turn; });
    return index >= 0 ? index : Math.min(turn, states.length - 1);
  }

  function play(dump) {
    const states = tictactoeStates(dump);
    if (states === null) {
      const game = dump && typeof dump.game === "string" ? dump.game : texts.another_game;
      say(text("not_tictactoe", {game: game}));
      return;
    }
    const seats = (Array.isArray(dump.players) ? dump.players : []).map(function (id) {
      return players[String(id)] || String(id);
    });
    const page = addressed();
    let index = 0;
    let timer = null;

    function go(to) {
      index = Math.max(0, Math.min(states.length - 1, to));
      show(states, seats, index);
      const hash = "#turn=" + turnOf(states, index);
      turnLink.href = page.location.pathname + page.location.search + hash;
      if (page.location.hash !== hash) {
        page.history.replaceState(page.history.state, "", hash);
      }
      if (index === states.length - 1) pause();
    }

    function pause() {
      clearInterval(timer);
      timer = null;
      playButton.textContent = texts.play;
      playButton.setAttribute("aria-pressed", "false");
    }

    function resume() {
      if (index === states.length - 1) go(0);
      clearInterval(timer);
      timer = setInterval(function () { go(index + 1); }, Number(speed.value));
      playButton.textContent = texts.pause;
      playButton.setAttribute("aria-pressed", "true");
    }

    const steps = {
      first: function () { return 0; },
      prev: function () { return index - 1; },
      next: function () { return index + 1; },
      last: function () { return states.length - 1; },
    };
    const keys = {ArrowLeft: "prev", ArrowRight: "next", Home: "first", End: "last"};

    message.hidden = true;
    controls.hidden = false;
    document.getElementById("replay-keys").hidden = false;
    controls.querySelectorAll("[data-step]").forEach(function (button) {
      button.addEventListener("click", function () {
        pause();
        go(steps[button.dataset.step]());
      });
    });
    playButton.addEventListener("click", function () { if (timer) pause(); else resume(); });
    speed.addEventListener("change", function () { if (timer) resume(); });
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || event.target === speed) return;
      if (event.key in keys) {
        pause();
        go(steps[keys[event.key]]());
      } else if (event.key === " ") {
        if (timer) pause(); else resume();
      } else {
        return;
      }
      event.preventDefault();
    });
    page.addEventListener("hashchange", function () {
      const wanted = indexInAddress(states);
      if (wanted !== null && wanted !== index) go(wanted);
    });
    go(indexInAddress(states) ?? 0);
  }

  fetch(root.dataset.dumpUrl, {credentials: "same-origin"})
    .then(function (response) {
      if (!response.ok) throw new Error(text("site_answered", {status: response.status}));
      return response.text();
    })
    .then(function (text) {
      let dump;
      try {
        dump = JSON.parse(text);
      } catch (e) {
        say(texts.not_json);
        return;
      }
      play(dump);
    })
    .catch(function (error) {
      say(text("cannot_load", {error: error.message}));
    });
})();
