// Calls NotificationService as a Spring app would, for examples/test.sh: java SpringCheck URL KEY UDP_PORT.
import java.util.Map;

public class SpringCheck {
    public static void main(String[] args) {
        try (NotificationService service = new NotificationService(args[0], args[1], Integer.parseInt(args[2]))) {
            Map<String, Object> reply = service.notifyUser("6", "Leave approved", "Friday");
            service.broadcastToSchool("3", Map.of("from", "spring"));
            System.out.println("recipients=" + reply.get("recipients") + " offset=" + reply.get("offset"));
        }
    }
}
