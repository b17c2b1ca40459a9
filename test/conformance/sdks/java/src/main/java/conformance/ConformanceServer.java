package conformance;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.apache.flink.statefun.sdk.java.Address;
import org.apache.flink.statefun.sdk.java.AddressScopedStorage;
import org.apache.flink.statefun.sdk.java.Context;
import org.apache.flink.statefun.sdk.java.StatefulFunction;
import org.apache.flink.statefun.sdk.java.StatefulFunctionSpec;
import org.apache.flink.statefun.sdk.java.StatefulFunctions;
import org.apache.flink.statefun.sdk.java.TypeName;
import org.apache.flink.statefun.sdk.java.ValueSpec;
import org.apache.flink.statefun.sdk.java.handler.RequestReplyHandler;
import org.apache.flink.statefun.sdk.java.io.KafkaEgressMessage;
import org.apache.flink.statefun.sdk.java.io.KinesisEgressMessage;
import org.apache.flink.statefun.sdk.java.message.EgressMessageBuilder;
import org.apache.flink.statefun.sdk.java.message.Message;
import org.apache.flink.statefun.sdk.java.message.MessageBuilder;
import org.apache.flink.statefun.sdk.java.slice.Slice;
import org.apache.flink.statefun.sdk.java.slice.Slices;
import org.apache.flink.statefun.sdk.java.types.Type;
import org.apache.flink.statefun.sdk.java.types.Types;

/**
 * The conformance functions written with the official StateFun Java SDK
 * (org.apache.flink:statefun-sdk-java 3.3.0), served with the JDK's HTTP server: its
 * RequestReplyHandler takes the request body and answers the reply bytes, or 500 when the
 * function fails, as StateFun's own Undertow handler does. One path per function type, each
 * with its own StatefulFunctions, so the module's {function.name} template is what routes a
 * call. Contract: docs/statefun-compatibility.md, "Conformance".
 *
 * <p>Prints "listening on 127.0.0.1:&lt;port&gt;".
 */
public final class ConformanceServer {
  private static final TypeName OUT = TypeName.typeNameFromString("conformance/out");

  static final ValueSpec<String> VALUE = ValueSpec.named("value").withUtf8StringType();
  static final ValueSpec<Integer> NEVER = ValueSpec.named("never").withIntType();
  static final ValueSpec<String> W =
      ValueSpec.named("w").thatExpireAfterWrite(Duration.ofSeconds(60)).withUtf8StringType();
  static final ValueSpec<String> C =
      ValueSpec.named("c").thatExpiresAfterCall(Duration.ofSeconds(60)).withUtf8StringType();
  static final ValueSpec<String> LOG = ValueSpec.named("log").withUtf8StringType();

  static final ValueSpec<Integer> INT_V = ValueSpec.named("int_v").withIntType();
  static final ValueSpec<Long> LONG_V = ValueSpec.named("long_v").withLongType();
  static final ValueSpec<Float> FLOAT_V = ValueSpec.named("float_v").withFloatType();
  static final ValueSpec<Double> DOUBLE_V = ValueSpec.named("double_v").withDoubleType();
  static final ValueSpec<Boolean> BOOL_V = ValueSpec.named("bool_v").withBooleanType();
  static final ValueSpec<String> STRING_V = ValueSpec.named("string_v").withUtf8StringType();

  static String address(Address a) {
    return a.type().namespace() + "/" + a.type().name() + "/" + a.id();
  }

  static <T> String show(Optional<T> value) {
    return value.map(String::valueOf).orElse("-");
  }

  static void report(Context context, String text) {
    context.send(EgressMessageBuilder.forEgress(OUT).withValue(text).build());
  }

  static final class Store implements StatefulFunction {
    @Override
    public CompletableFuture<Void> apply(Context context, Message message) {
      String[] words = message.asUtf8String().split(" ", 2);
      String arg = words.length > 1 ? words[1] : "";
      AddressScopedStorage s = context.storage();
      switch (words[0]) {
        case "set":
          s.set(VALUE, arg);
          break;
        case "del":
          s.remove(VALUE);
          break;
        case "setw":
          s.set(W, arg);
          break;
        case "setc":
          s.set(C, arg);
          break;
        case "append":
          s.set(LOG, s.get(LOG).map(log -> log + "," + arg).orElse(arg));
          break;
        case "noop":
          break;
        case "peek":
          report(
              context,
              "value=" + show(s.get(VALUE)) + " never=" + show(s.get(NEVER)) + " w=" + show(s.get(W))
                  + " c=" + show(s.get(C)) + " log=" + show(s.get(LOG)));
          break;
        case "fail":
          throw new IllegalStateException("conformance: fail requested");
        default:
          throw new IllegalArgumentException(address(context.self()) + ": unknown command " + words[0]);
      }
      return context.done();
    }
  }

  static final class Relay implements StatefulFunction {
    private final TypeName own;
    private final TypeName other;

    Relay(String own, String other) {
      this.own = TypeName.typeNameOf("conformance", own);
      this.other = TypeName.typeNameOf("conformance", other);
    }

    @Override
    public CompletableFuture<Void> apply(Context context, Message message) {
      String[] words = message.asUtf8String().split(" ");
      String self = address(context.self());
      String caller = context.caller().map(ConformanceServer::address).orElse("-");
      switch (words[0]) {
        case "bounce":
        case "loop":
          {
            int n = Integer.parseInt(words[1]);
            report(context, self + " " + words[0] + " " + n + " caller=" + caller);
            if (n > 0) {
              TypeName target = words[0].equals("loop") ? own : other;
              context.send(
                  MessageBuilder.forAddress(target, context.self().id())
                      .withValue(words[0] + " " + (n - 1))
                      .build());
            }
            break;
          }
        case "later":
          {
            Message note =
                MessageBuilder.forAddress(context.self()).withValue("note " + words[3]).build();
            Duration delay = Duration.ofMillis(Long.parseLong(words[1]));
            if (words[2].equals("-")) {
              context.sendAfter(delay, note);
            } else {
              context.sendAfter(delay, words[2], note);
            }
            break;
          }
        case "cancel":
          context.cancelDelayedMessage(words[1]);
          break;
        case "note":
          report(context, self + " note " + words[1] + " caller=" + caller);
          break;
        case "kafka":
          context.send(
              KafkaEgressMessage.forEgress(TypeName.typeNameFromString("conformance/kafka"))
                  .withTopic(words[1])
                  .withUtf8Key(words[2])
                  .withUtf8Value(words[3])
                  .build());
          break;
        case "kinesis":
          context.send(
              KinesisEgressMessage.forEgress(TypeName.typeNameFromString("conformance/kinesis"))
                  .withStream(words[1])
                  .withUtf8PartitionKey(words[2])
                  .withUtf8ExplicitHashKey(words[3])
                  .withUtf8Value(words[4])
                  .build());
          break;
        default:
          throw new IllegalArgumentException(self + ": unknown command " + words[0]);
      }
      return context.done();
    }
  }

  static final class TypesFn implements StatefulFunction {
    @Override
    public CompletableFuture<Void> apply(Context context, Message message) {
      if (message.isInt()) keep(context, INT_V, message.asInt() + 1);
      else if (message.isLong()) keep(context, LONG_V, message.asLong() + 1);
      else if (message.isFloat()) keep(context, FLOAT_V, message.asFloat() * 2);
      else if (message.isDouble()) keep(context, DOUBLE_V, message.asDouble() * 2);
      else if (message.isBoolean()) keep(context, BOOL_V, !message.asBoolean());
      else if (message.isUtf8String()) keep(context, STRING_V, message.asUtf8String() + "!");
      else
        throw new IllegalArgumentException(
            "conformance/types: not a built-in type: " + message.valueTypeName());
      return context.done();
    }

    private static <T> void keep(Context context, ValueSpec<T> spec, T value) {
      context.storage().set(spec, value);
      Type<T> type = spec.type();
      context.send(EgressMessageBuilder.forEgress(OUT).withCustomType(type, value).build());
    }
  }

  public static void main(String[] args) throws IOException {
    Map<String, StatefulFunctionSpec> functions =
        Map.of(
            "store", storeSpec("store"),
            // conformance/faulty is the store function under another type, whose endpoint gives up sooner.
            "faulty", storeSpec("faulty"),
            "ping", spec("ping", () -> new Relay("ping", "pong")),
            "pong", spec("pong", () -> new Relay("pong", "ping")),
            "types",
                StatefulFunctionSpec.builder(TypeName.typeNameOf("conformance", "types"))
                    .withValueSpecs(INT_V, LONG_V, FLOAT_V, DOUBLE_V, BOOL_V, STRING_V)
                    .withSupplier(TypesFn::new)
                    .build());
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(4));
    functions.forEach(
        (name, spec) -> {
          RequestReplyHandler handler = new StatefulFunctions().withStatefulFunction(spec).requestReplyHandler();
          server.createContext("/" + name, exchange -> serve(handler, exchange));
        });
    server.start();
    System.out.println("listening on 127.0.0.1:" + server.getAddress().getPort());
  }

  private static StatefulFunctionSpec storeSpec(String name) {
    return StatefulFunctionSpec.builder(TypeName.typeNameOf("conformance", name))
        .withValueSpecs(VALUE, NEVER, W, C, LOG)
        .withSupplier(Store::new)
        .build();
  }

  private static StatefulFunctionSpec spec(
      String name, java.util.function.Supplier<StatefulFunction> supplier) {
    return StatefulFunctionSpec.builder(TypeName.typeNameOf("conformance", name))
        .withSupplier(supplier)
        .build();
  }

  private static void serve(RequestReplyHandler handler, HttpExchange exchange) throws IOException {
    try {
      if (!"POST".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] request = exchange.getRequestBody().readAllBytes();
      Slice reply;
      try {
        reply = handler.handle(Slices.wrap(request)).join();
      } catch (RuntimeException e) {
        e.printStackTrace();
        exchange.sendResponseHeaders(500, -1);
        return;
      }
      byte[] body = new byte[reply.readableBytes()];
      reply.copyTo(body);
      exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
      exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } finally {
      exchange.close();
    }
  }
}
