// Tic-tac-toe, JavaScript (Node.js): plays a random free cell.
//
// Each turn the client sends one line, "ME BOARD": ME is 0 or 1 (player 0
// moves first), BOARD the 9 cells row by row, '.' free, '0' or '1' taken.
// The answer is one line, "ROW COL" (0 to 2). The input ends with the game.
'use strict';

const readline = require('readline');

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const board = line.trim().split(/\s+/)[1];
  const free = [...board].flatMap((cell, i) => (cell === '.' ? [i] : []));
  const cell = free[Math.floor(Math.random() * free.length)];
  process.stdout.write(`${Math.floor(cell / 3)} ${cell % 3}\n`);
});
