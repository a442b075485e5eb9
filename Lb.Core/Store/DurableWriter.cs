using System.Collections.Concurrent;

namespace Lb.Core.Store;

/// <summary>
/// One dedicated thread that performs a store's durable file writes (write, fsync, rename, fsync directory) in the
/// order they were queued. A disk flush can block for a long time: on this thread it holds neither an I/O thread
/// (with inline scheduling those serve the proxy's connections) nor a thread-pool worker. Callers resume on the
/// thread pool, never on the writer.
/// </summary>
internal sealed class DurableWriter : IDisposable
{
    private readonly BlockingCollection<(Action Work, TaskCompletionSource Done)> _queue = [];
    private readonly Thread _thread;

    public DurableWriter(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>The writer thread (tests check that work runs there).</summary>
    internal Thread Thread => _thread;

    /// <summary>Queues <paramref name="work"/>; the task completes (or faults with its exception) once it has run.</summary>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public Task RunAsync(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _queue.Add((work, done));
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(nameof(DurableWriter));
        }
        return done.Task;
    }

    private void Run()
    {
        foreach (var (work, done) in _queue.GetConsumingEnumerable())
        {
            try
            {
                work();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }
    }

    /// <summary>Finishes the queued writes, then ends the thread.</summary>
    public void Dispose()
    {
        if (_queue.IsAddingCompleted)
        {
            return;
        }
        _queue.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
            _queue.Dispose();
        }
    }
}
