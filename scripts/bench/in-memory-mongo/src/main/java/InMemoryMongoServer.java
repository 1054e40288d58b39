import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * `java -cp '<lib>/*:<classes>' InMemoryMongoServer <port>`: a MongoDB-wire server holding everything in memory,
 * for measuring our code without a database engine's cost. Not durable; only unique secondary indexes are built.
 * mongo-java-server 1.47's newest built-in version (5.0) announces wire version 8, and the Node.js driver 7 needs 9
 * or more, so it announces MongoDB 5.0 with wire version 13; the number only serves the handshake.
 */
public class InMemoryMongoServer {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    MemoryBackend backend = new MemoryBackend();
    backend.version(new MongoVersion() {
      public List<Integer> getVersionArray() { return List.of(5, 0, 0); }
      public int getWireVersion() { return 13; }
    });
    MongoServer server = new MongoServer(backend);
    server.bind("127.0.0.1", port);
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    System.out.println("ready " + server.getConnectionString());
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
