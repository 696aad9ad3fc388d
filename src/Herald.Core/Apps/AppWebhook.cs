namespace Herald.Core.Apps;

/// <summary>A webhook of an app as configured: where it is posted and which events it wants (empty: all).</summary>
/// <param name="Url">An absolute http or https URL.</param>
/// <param name="EventTypes">Pusher event types such as <c>channel_occupied</c> or <c>member_added</c>.</param>
public sealed record AppWebhook(Uri Url, IReadOnlyList<string> EventTypes);
