namespace Switchyard.Tests.Infrastructure;

/// <summary>Locations in the repository checkout the tests run from.</summary>
public static class RepoPaths
{
    /// <summary>The directory holding Switchyard.slnx.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Switchyard.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Switchyard.slnx) not found above " + AppContext.BaseDirectory);
    }
}
