package burnrate;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.Properties;
import java.util.UUID;

/**
 * The official ClickHouse JDBC driver, with its defaults (LZ4 response compression on), against the
 * embedded HTTP interface. Prints one `key=value` line per fact; clickhouse-http-jdbc.test.ts
 * starts the interface, runs this and checks the lines.
 *
 * Arguments: host port database writerUser writerPassword analystUser analystPassword
 */
public final class JdbcProbe {
  public static void main(String[] args) throws Exception {
    String base = "jdbc:clickhouse://" + args[0] + ":" + args[1] + "/" + args[2];
    String database = args[2];
    try (Connection writer = connect(base, args[3], args[4], null)) {
      DatabaseMetaData meta = writer.getMetaData();
      out("product", meta.getDatabaseProductName());
      out("version", meta.getDatabaseProductVersion());
      StringBuilder tables = new StringBuilder();
      try (ResultSet rs = meta.getTables(null, database, "%", null)) {
        while (rs.next()) tables.append(rs.getString("TABLE_NAME")).append(' ');
      }
      out("tables", tables.toString().trim());
      StringBuilder columns = new StringBuilder();
      try (ResultSet rs = meta.getColumns(null, database, "facts", "%")) {
        while (rs.next()) columns.append(rs.getString("COLUMN_NAME")).append(':').append(rs.getString("TYPE_NAME")).append(' ');
      }
      out("columns", columns.toString().trim());

      try (PreparedStatement insert =
          writer.prepareStatement("INSERT INTO facts (id, customer, at, cost) VALUES (?, ?, ?, ?)")) {
        for (int i = 1; i <= 3; i++) {
          insert.setLong(1, 100 + i);
          insert.setString(2, "jdbc-" + i);
          insert.setObject(3, LocalDateTime.of(2026, 3, i, 12, 30, 15, 250_000_000));
          insert.setObject(4, new BigInteger("18446744073709551615").subtract(BigInteger.valueOf(i)));
          insert.addBatch();
        }
        int[] counts = insert.executeBatch();
        out("inserted", String.valueOf(counts.length));
      }

      try (Statement statement = writer.createStatement();
          ResultSet rs = statement.executeQuery(
              "SELECT id, customer, at, cost FROM facts WHERE id > 100 ORDER BY id")) {
        while (rs.next()) {
          Object cost = rs.getObject(4);
          out("row", rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getTimestamp(3).toInstant() + "|"
              + rs.getObject(4, BigInteger.class) + "|" + cost.getClass().getSimpleName());
        }
      }
      try (Statement statement = writer.createStatement();
          ResultSet rs = statement.executeQuery("SELECT sum(toUInt128(cost)) FROM facts WHERE id > 100")) {
        rs.next();
        out("sum", rs.getString(1));
      }
    }

    // a temporary table lives in a session: the driver sends session_id when given one as a setting
    try (Connection session = connect(base, args[3], args[4], UUID.randomUUID().toString());
        Statement statement = session.createStatement()) {
      statement.execute("CREATE TEMPORARY TABLE scratch (x UInt64)");
      statement.execute("INSERT INTO scratch SELECT number FROM numbers(5)");
      try (ResultSet rs = statement.executeQuery("SELECT sum(x) FROM scratch")) {
        rs.next();
        out("temporary_sum", rs.getString(1));
      }
    }

    // request bodies compressed by the driver in ClickHouse blocks (decompress=1), its own LZ4 and CityHash
    Properties compressing = new Properties();
    compressing.setProperty("decompress", "true"); // client-v2: COMPRESS_CLIENT_REQUEST
    try (Connection writer = connect(base, args[3], args[4], null, compressing);
        Statement statement = writer.createStatement()) {
      statement.execute("INSERT INTO facts (id, customer, at, cost) VALUES (200, 'compressed', '2026-03-04 05:06:07.890', 1)");
      try (ResultSet rs = statement.executeQuery("SELECT customer FROM facts WHERE id = 200")) {
        rs.next();
        out("compressed_request", rs.getString(1));
      }
    }

    try (Connection analyst = connect(base, args[5], args[6], null);
        Statement statement = analyst.createStatement()) {
      try (ResultSet rs = statement.executeQuery("SELECT count() FROM facts")) {
        rs.next();
        out("analyst_count", rs.getString(1));
      }
      try {
        statement.execute("DROP TABLE facts");
        out("drop", "allowed");
      } catch (SQLException e) {
        out("drop", "refused " + e.getMessage().replace('\n', ' '));
      }
    }
    out("done", "true");
  }

  private static Connection connect(String url, String user, String password, String sessionId)
      throws SQLException {
    return connect(url, user, password, sessionId, new Properties());
  }

  private static Connection connect(
      String url, String user, String password, String sessionId, Properties properties)
      throws SQLException {
    properties.setProperty("user", user);
    properties.setProperty("password", password);
    if (sessionId != null) properties.setProperty("clickhouse_setting_session_id", sessionId);
    return DriverManager.getConnection(url, properties);
  }

  private static void out(String key, String value) {
    System.out.println(key + "=" + value);
  }
}
