namespace Switchyard.Redis;

/// <summary>A reply of type error from the server (e.g. <c>WRONGTYPE</c>, <c>NOAUTH</c>, <c>MOVED</c>).</summary>
public sealed class RedisServerException(string message) : Exception(message)
{
    /// <summary>The first word of the error, e.g. <c>MOVED</c>, <c>ASK</c>, <c>NOSCRIPT</c>.</summary>
    public string Code => Message.Split(' ', 2)[0];
}
