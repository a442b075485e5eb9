using System.Runtime.InteropServices;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Core.Validation;

namespace Lb.Server;

/// <summary>
/// <c>serve --config routes.json</c>: the desired state kept in a file (GitOps). Read at start and again on SIGHUP or
/// <c>POST /api/config/reload</c>; every read is parsed and validated whole and written through the store's
/// compare-and-set like an API write (in a cluster it is a write like any other). An invalid file changes nothing.
/// </summary>
internal sealed partial class ConfigFile(string path, IDesiredStateStore store, ILogger<ConfigFile> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PosixSignalRegistration? _sighup;

    public string Path { get; } = path;

    /// <summary>Reads and validates the file; the problems in the CLI's shape when it cannot be used.</summary>
    public static (ProxyConfig? Config, IReadOnlyList<ValidationError> Problems) Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, [new ValidationError("", "unreadable", $"cannot read {path}: {ex.Message}", "check the path given to --config")]);
        }
        var parsed = DesiredStateJson.ParseConfig(bytes);
        if (!parsed.Succeeded)
        {
            return (null, [new ValidationError(parsed.Field, "invalid_json", parsed.Detail ?? parsed.Message ?? "", "")]);
        }
        var result = DesiredStateValidator.Validate(parsed.Value!);
        return result.IsValid ? (parsed.Value, []) : (null, result.Errors);
    }

    /// <summary>Re-reads the file and writes it if it differs from the current state.</summary>
    public async Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var (config, problems) = Read(Path);
            if (config is null)
            {
                LogRejected(Path, problems.Count, string.Join("; ", problems.Select(p => p.Field.Length > 0 ? $"{p.Field}: {p.Message}" : p.Message)));
                return new ReloadResult(false, store.Current.Version, problems);
            }
            var current = store.Current;
            if (DesiredStateJson.ContentHash(config) == DesiredStateJson.ContentHash(current.State.Config))
            {
                LogUnchanged(Path, current.Version);
                return new ReloadResult(true, current.Version, []);
            }
            var write = await store.PutAsync(current.State with { Config = config }, current.Version, cancellationToken);
            if (write.Status != StoreWriteStatus.Applied)
            {
                var problem = new ValidationError("", write.Status.ToString(), write.Message ?? $"the store answered {write.Status}", "try again");
                LogRejected(Path, 1, problem.Message);
                return new ReloadResult(false, write.Current.Version, write.Validation?.Errors ?? [problem]);
            }
            LogApplied(Path, write.Current.Version);
            return new ReloadResult(true, write.Current.Version, []);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>SIGHUP re-reads the file (as nginx and HAProxy reload on it); the process keeps running either way.</summary>
    public void ReloadOnSighup(CancellationToken stopping)
    {
        _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            _ = Task.Run(() => ReloadAsync(stopping), stopping);
        });
    }

    public void Dispose()
    {
        _sighup?.Dispose();
        _gate.Dispose();
    }

    [LoggerMessage(EventId = 6901, Level = LogLevel.Information, Message = "Loaded {Path}: configuration version {Version}")]
    private partial void LogApplied(string path, long version);

    [LoggerMessage(EventId = 6902, Level = LogLevel.Information, Message = "Loaded {Path}: unchanged, configuration stays at version {Version}")]
    private partial void LogUnchanged(string path, long version);

    [LoggerMessage(EventId = 6903, Level = LogLevel.Error, Message = "Not loading {Path}, the running configuration is kept: {Count} problem(s): {Problems}")]
    private partial void LogRejected(string path, int count, string problems);
}

internal sealed record ReloadResult(bool Ok, long Version, IReadOnlyList<ValidationError> Problems);
