namespace Switchyard.Redis;

/// <summary>Redis could not be reached, did not answer in time, or the connection broke; the message never holds credentials.</summary>
public sealed class RedisConnectionException : Exception
{
    public RedisConnectionException(string message)
        : base(message)
    {
    }

    public RedisConnectionException(string message, Exception? inner)
        : base(message, inner)
    {
    }
}
