// Step-by-step viewer for the bundled tictactoe's dump (states embedded in the page).
(function () {
  "use strict";
  const states = JSON.parse(document.getElementById("replay-states").textContent);
  const seats = JSON.parse(document.getElementById("replay-seats").textContent);
  const board = document.getElementById("replay-board");
  const turn = document.getElementById("replay-turn");
  const caption = document.getElementById("replay-caption");
  const marks = ["X", "O"];
  let index = 0;

  function seatName(seat) {
    return (seats[seat] || "player " + seat) + " (" + marks[seat] + ")";
  }

  function show() {
    const state = states[index];
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
        if (last && last[0] === r && last[1] === c) div.classList.add("last");
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

  document.querySelectorAll("#replay [data-step]").forEach(function (button) {
    button.addEventListener("click", function () {
      const step = button.dataset.step;
      if (step === "first") index = 0;
      else if (step === "prev") index = Math.max(0, index - 1);
      else if (step === "next") index = Math.min(states.length - 1, index + 1);
      else index = states.length - 1;
      show();
    });
  });
  show();
})();
