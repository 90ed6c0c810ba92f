// Tic-tac-toe, C++: plays a random free cell.
//
// Each turn the client sends one line, "ME BOARD": ME is 0 or 1 (player 0
// moves first), BOARD the 9 cells row by row, '.' free, '0' or '1' taken.
// The answer is one line, "ROW COL" (0 to 2). The input ends with the game.
#include <iostream>
#include <random>
#include <string>
#include <vector>

int main()
{
    std::mt19937 rng(std::random_device{}());
    int me;
    std::string board;
    while (std::cin >> me >> board) {
        std::vector<int> free_cells;
        for (int i = 0; i < 9; i++)
            if (board[i] == '.')
                free_cells.push_back(i);
        int cell = free_cells[rng() % free_cells.size()];
        // std::endl flushes: the answer leaves at once.
        std::cout << cell / 3 << ' ' << cell % 3 << std::endl;
    }
}
