package burnrate;
public class JdbcProbe { public static void main(String[] a) { System.out.println("ok"); } }
