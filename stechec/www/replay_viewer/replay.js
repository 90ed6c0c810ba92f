// The bundled game's replay viewer: fetches the match's dump from the URL the site
// gives (data-dump-url) and shows a tictactoe board turn by turn. The dump is
// {"game": "tictactoe", "players": [...], "states": [{"turn", "board", "last_move",
// "to_play", "winner"}]} (docs/refgame.md); anything else gets a message and the
// download link.
(function () {
  "use strict";
  const root = document.getElementById("replay");
  const players = JSON.parse(document.getElementById("replay-players").textContent);
  const message = document.getElementById("replay-message");
  const board = document.getElementById("replay-board");
  const controls = document.getElementById("replay-controls");
  const turn = document.getElementById("replay-turn");
  const caption = document.getElementById("replay-caption");
  const marks = ["X", "O"];

  function say(text) {
    message.textContent = text + " ";
    const link = document.createElement("a");
    link.href = root.dataset.downloadUrl;
    link.target = "_top";
    link.textContent = "Download the dump.";
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
      return (seats[seat] || "player " + seat) + " (" + marks[seat] + ")";
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
    turn.textContent = "state " + (index + 1) + " / " + states.length +
      (state.turn !== undefined ? " (turn " + state.turn + ")" : "");
    if (index === states.length - 1 && "winner" in state) {
      caption.textContent = state.winner === null ? "Draw." : seatName(state.winner) + " wins.";
    } else if (state.to_play === 0 || state.to_play === 1) {
      caption.textContent = seatName(state.to_play) + " to play.";
    } else {
      caption.textContent = "";
    }
  }

  function play(dump) {
    const states = tictactoeStates(dump);
    if (states === null) {
      const game = dump && typeof dump.game === "string" ? dump.game : "another game";
      say("This viewer shows tictactoe matches; this dump is not one (" + game + ").");
      return;
    }
    const seats = (Array.isArray(dump.players) ? dump.players : []).map(function (id) {
      return players[String(id)] || String(id);
    });
    let index = 0;
    message.hidden = true;
    controls.hidden = false;
    controls.querySelectorAll("[data-step]").forEach(function (button) {
      button.addEventListener("click", function () {
        const step = button.dataset.step;
        if (step === "first") index = 0;
        else if (step === "prev") index = Math.max(0, index - 1);
        else if (step === "next") index = Math.min(states.length - 1, index + 1);
        else index = states.length - 1;
        show(states, seats, index);
      });
    });
    show(states, seats, index);
  }

  fetch(root.dataset.dumpUrl, {credentials: "same-origin"})
    .then(function (response) {
      if (!response.ok) throw new Error("the site answered " + response.status);
      return response.text();
    })
    .then(function (text) {
      let dump;
      try {
        dump = JSON.parse(text);
      } catch (e) {
        say("The dump is not valid JSON.");
        return;
      }
      play(dump);
    })
    .catch(function (error) {
      say("The dump cannot be loaded (" + error.message + ").");
    });
})();
