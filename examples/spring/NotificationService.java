// NotificationService.java: a Spring @Service that notifies users through Herald with the Java SDK
// (sdk/java, io.herald.HeraldClient). A notification goes to the user's personal channel `notifications#<user>`
// (what examples/vue, examples/uniapp and examples/miniprogram subscribe to); a broadcast to a school goes to the
// plain clients whose attributes match (examples/browser) by UDP.
//
// Use in a Spring Boot app: copy sdk/java/src/main/java/io/herald into your sources (or add herald-client.jar),
// put this class in your package, uncomment the annotations and imports, and set herald.url, herald.api-key and
// herald.udp-port in application.properties. It compiles with plain javac too (examples/test.sh does, with no
// Spring on the classpath):
//     javac -d out ../../sdk/java/src/main/java/io/herald/*.java NotificationService.java
import io.herald.HeraldClient;
import io.herald.Message;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

// import org.springframework.beans.factory.annotation.Value;
// import org.springframework.stereotype.Service;
// import jakarta.annotation.PreDestroy;

// @Service
public class NotificationService implements AutoCloseable {
    private final HeraldClient herald;

    public NotificationService(
            /* @Value("${herald.url:http://127.0.0.1:6552}") */ String url,
            /* @Value("${herald.api-key:}") */ String apiKey,
            /* @Value("${herald.udp-port:6553}") */ int udpPort) {
        HeraldClient.Builder builder = HeraldClient.builder(url)
                .udp(URI.create(url).getHost(), udpPort) // UDP goes to the same host as HTTP
                .timeout(Duration.ofSeconds(3));
        if (apiKey != null && !apiKey.isEmpty()) builder.apiKey(apiKey);
        this.herald = builder.build();
    }

    /** Notifies one user; returns Herald's reply (recipients, offset, epoch). */
    public Map<String, Object> notifyUser(String userId, String title, String body) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("title", title);
        data.put("body", body);
        return herald.publish(Message.toChannel("notifications#" + userId).data(data));
    }

    /** Everyone of a school, fire and forget over UDP (the plain clients that sent {"school_id": ...}). */
    public void broadcastToSchool(String schoolId, Map<String, Object> data) {
        herald.push(Message.toWhere(Map.of("school_id", schoolId)).data(data));
    }

    // @PreDestroy
    @Override
    public void close() {
        herald.close();
    }
}
