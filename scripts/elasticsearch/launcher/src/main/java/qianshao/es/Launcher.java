package qianshao.es;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.node.EmbeddedNode;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts one Elasticsearch node bound to 127.0.0.1 with only the server's core and the netty4 HTTP
 * transport (what Maven Central serves). Options: --http-port, --transport-port, --node-name,
 * --cluster-name, --home, --data, --seed-hosts (comma list), --initial-masters (comma list).
 * SIGTERM closes the node cleanly and exits 0.
 */
public final class Launcher {
    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        String nodeName = opts.getOrDefault("node-name", "qianshao-1");
        Settings.Builder settings = Settings.builder()
            .put("node.name", nodeName)
            .put("cluster.name", opts.getOrDefault("cluster-name", "qianshao"))
            .put("path.home", require(opts, "home"))
            .put("path.data", require(opts, "data"))
            .put("path.logs", require(opts, "data") + "/logs")
            .put("network.host", "127.0.0.1")
            .put("http.port", opts.getOrDefault("http-port", "9200"))
            .put("transport.port", opts.getOrDefault("transport-port", "9300"))
            // Development disks fill up; an embedded node must not turn indices read-only for it.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.destructive_requires_name", false);
        if (opts.containsKey("seed-hosts")) {
            settings.putList("discovery.seed_hosts", List.of(opts.get("seed-hosts").split(",")));
            settings.putList("cluster.initial_master_nodes", List.of(require(opts, "initial-masters").split(",")));
        } else {
            settings.put("discovery.type", "single-node");
        }
        Settings built = settings.build();
        LogConfigurator.configureESLogging();
        LogConfigurator.configureWithoutConfig(built);

        Node node = new EmbeddedNode(built, List.of(Netty4Plugin.class));
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                System.err.println("error closing node: " + e);
            } finally {
                closed.countDown();
            }
        }, "embedded-es-shutdown"));
        node.start();
        System.out.println("embedded elasticsearch " + nodeName + " started on http://127.0.0.1:" + built.get("http.port"));
        closed.await();
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("bad argument: " + args[i]);
            opts.put(args[i].substring(2), args[++i]);
        }
        return opts;
    }

    private static String require(Map<String, String> opts, String name) {
        String value = opts.get(name);
        if (value == null) throw new IllegalArgumentException("missing --" + name);
        return value;
    }
}
