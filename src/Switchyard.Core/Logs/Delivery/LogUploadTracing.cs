using System.Diagnostics;

namespace Switchyard.Core.Logs.Delivery;

/// <summary>The <c>log.upload</c> span: one per store call, on the gateway's <c>Switchyard</c> activity source.</summary>
internal static class LogUploadTracing
{
    /// <summary>The source the tracer listens to; a second instance under the same name elsewhere is fine.</summary>
    public static readonly ActivitySource Source = new("Switchyard");

    public const string SpanName = "log.upload";

    /// <summary>A root span (the request that made the record has ended by now), or null when nobody listens.</summary>
    public static Activity? Start(string store, string key, int attempt, string from)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        // An explicit empty parent is not enough: StartActivity falls back to Activity.Current, which a caller's flow may carry.
        Activity.Current = null;
        var activity = Source.StartActivity(SpanName, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("switchyard.log.store", store);
            activity.SetTag("switchyard.log.key", key);
            activity.SetTag("switchyard.log.attempt", attempt);
            activity.SetTag("switchyard.log.from", from);
        }
        return activity;
    }

    public static void Fail(Activity? activity, string errorType)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetTag("error.type", errorType);
        activity.SetStatus(ActivityStatusCode.Error);
    }
}
