import { Button } from "./button";
import { Spinner } from "./spinner";

/** The paging of an infinite query, as much of it as a "Load more" button needs. */
interface Pages {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/** "Load more" under a paged list, while the list has more to load. */
export function LoadMore({ pages }: { pages: Pages }) {
  if (!pages.hasNextPage) return null;
  return (
    <div className="p-2 text-center">
      <Button size="sm" variant="ghost" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
        {pages.isFetchingNextPage && <Spinner className="text-current" />} Load more
      </Button>
    </div>
  );
}
