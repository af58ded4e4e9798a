package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/** A call inside a burst that writes and then fails leaves nothing of itself; the burst goes on. */
class JdbcGroupTest {
  @TempDir Path dir;
  private Jdbc db;

  @BeforeEach
  void open() {
    db = new Jdbc(JdbcStore.sqlite(dir.resolve("t.db"), SQLiteConfig.JournalMode.WAL));
    db.update("create table", "CREATE TABLE t (k VARCHAR(8) PRIMARY KEY)");
  }

  private void insert(String... keys) {
    db.inTransaction("insert", c -> {
      for (String k : keys) {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (k) VALUES (?)")) {
          ps.setString(1, k);
          ps.executeUpdate();
        }
      }
      return null;
    });
  }

  private List<String> keys() {
    return db.inTransaction("read", c -> {
      List<String> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT k FROM t ORDER BY k"); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return out;
    });
  }

  @Test
  void aFailingCallIsRolledBackToItsSavepoint() {
    db.grouped(() -> {
      insert("a");
      // Writes "b", then fails on the second "a": its own "b" goes, the burst's "a" stays.
      assertThatThrownBy(() -> insert("b", "a")).isInstanceOf(StoreException.class)
          .hasMessageStartingWith("store: cannot insert");
      insert("c");
      assertThat(keys()).containsExactly("a", "c");
    });
    assertThat(keys()).containsExactly("a", "c");
  }

  @Test
  void whatABurstWroteIsInvisibleToOthersUntilItCommits() throws Exception {
    List<List<String>> seenByAnother = new ArrayList<>();
    db.grouped(() -> {
      insert("x");
      Thread other = new Thread(() -> {
        try (var c = JdbcStore.sqlite(dir.resolve("t.db"), SQLiteConfig.JournalMode.WAL).getConnection();
            var ps = c.prepareStatement("SELECT COUNT(*) FROM t"); var rs = ps.executeQuery()) {
          rs.next();
          seenByAnother.add(List.of(Integer.toString(rs.getInt(1))));
        } catch (SQLException e) {
          seenByAnother.add(List.of(e.getMessage()));
        }
      });
      other.start();
      try {
        other.join();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(seenByAnother).containsExactly(List.of("0"));
    assertThat(keys()).containsExactly("x");
  }
}
