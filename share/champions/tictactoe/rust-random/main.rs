// Tic-tac-toe, Rust: plays a random free cell.
//
// Each turn the client sends one line, "ME BOARD": ME is 0 or 1 (player 0
// moves first), BOARD the 9 cells row by row, '.' free, '0' or '1' taken.
// The answer is one line, "ROW COL" (0 to 2). The input ends with the game.
use std::io::{self, BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    // The standard library has no random numbers: a small xorshift generator.
    let mut state = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
        ^ u64::from(std::process::id())
        | 1;
    let stdout = io::stdout();
    for line in io::stdin().lock().lines() {
        let line = line.unwrap();
        let board = line.split_whitespace().nth(1).unwrap_or("");
        let free: Vec<usize> = board.bytes().enumerate()
            .filter(|&(_, cell)| cell == b'.')
            .map(|(i, _)| i)
            .collect();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let cell = free[(state % free.len() as u64) as usize];
        let mut out = stdout.lock();
        writeln!(out, "{} {}", cell / 3, cell % 3).unwrap();
        out.flush().unwrap();
    }
}
