import Link from "next/link";
import { formatDate, getAllPosts } from "@/lib/posts";

export default function Home() {
  const posts = getAllPosts();
  return (
    <>
      <section className="intro">
        <h1>Welcome to my blog</h1>
        <p>Notes and stories. Add a Markdown file to the <code>posts/</code> folder to publish a new one.</p>
      </section>
      <ul className="post-list">
        {posts.map((post) => (
          <li key={post.slug} className="post-card">
            <Link href={`/posts/${post.slug}`}>
              <h2>{post.title}</h2>
            </Link>
            <time dateTime={post.date}>{formatDate(post.date)}</time>
            <p>{post.summary}</p>
            {post.tags.length > 0 && (
              <div className="tags">
                {post.tags.map((t) => (
                  <span key={t} className="tag">
                    {t}
                  </span>
                ))}
              </div>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
