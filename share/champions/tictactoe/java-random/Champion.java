// Tic-tac-toe, Java: plays a random free cell.
//
// Each turn the client sends one line, "ME BOARD": ME is 0 or 1 (player 0
// moves first), BOARD the 9 cells row by row, '.' free, '0' or '1' taken.
// The answer is one line, "ROW COL" (0 to 2). The input ends with the game.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

public class Champion {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        Random random = new Random();
        String line;
        while ((line = in.readLine()) != null) {
            String board = line.trim().split("\\s+")[1];
            List<Integer> free = new ArrayList<>();
            for (int i = 0; i < board.length(); i++) {
                if (board.charAt(i) == '.') {
                    free.add(i);
                }
            }
            int cell = free.get(random.nextInt(free.size()));
            System.out.println(cell / 3 + " " + cell % 3);
            System.out.flush();
        }
    }
}
