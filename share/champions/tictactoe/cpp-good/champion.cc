// Tic-tac-toe, C++: plays perfectly (full minimax search), so it never loses.
//
// Each turn the client sends one line, "ME BOARD": ME is 0 or 1 (player 0
// moves first), BOARD the 9 cells row by row, '.' free, '0' or '1' taken.
// The answer is one line, "ROW COL" (0 to 2). The input ends with the game.
#include <array>
#include <iostream>
#include <string>

namespace {

constexpr std::array<std::array<int, 3>, 8> lines{{
    {0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6},
    {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6},
}};

bool wins(const std::string& board, char mark)
{
    for (const auto& line : lines)
        if (board[line[0]] == mark && board[line[1]] == mark && board[line[2]] == mark)
            return true;
    return false;
}

// The value for the player with `mark` to move: 1 win, 0 draw, -1 loss,
// with perfect play on both sides; `best_cell` gets the move reaching it.
int minimax(std::string& board, char mark, char other, int* best_cell)
{
    int best = -2;
    for (int cell = 0; cell < 9; cell++) {
        if (board[cell] != '.')
            continue;
        board[cell] = mark;
        int value = wins(board, mark) ? 1 : -minimax(board, other, mark, nullptr);
        board[cell] = '.';
        if (value > best) {
            best = value;
            if (best_cell)
                *best_cell = cell;
        }
    }
    return best == -2 ? 0 : best; // no free cell: a draw
}

} // namespace

int main()
{
    int me;
    std::string board;
    while (std::cin >> me >> board) {
        int cell = -1;
        minimax(board, static_cast<char>('0' + me), static_cast<char>('1' - me), &cell);
        std::cout << cell / 3 << ' ' << cell % 3 << std::endl;
    }
}
