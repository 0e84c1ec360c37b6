import type { Metadata } from "next";
import Link from "next/link";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "My Blog", template: "%s · My Blog" },
  description: "A blog written in Markdown, built with Next.js.",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="site-header">
          <Link href="/" className="site-title">
            My Blog
          </Link>
          <nav>
            <Link href="/">Posts</Link>
          </nav>
        </header>
        <main className="container">{children}</main>
        <footer className="site-footer">Written in Markdown · Built with Next.js</footer>
      </body>
    </html>
  );
}
