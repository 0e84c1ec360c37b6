import { useQuery } from "@tanstack/react-query";
import { Coins, GraduationCap, LogIn, LogOut, Moon, Settings, Sun, Users } from "lucide-react";
import { Link, useNavigate } from "react-router";
import { useLogout, useMe } from "@/auth/session";
import { toggleTheme, useTheme } from "@/lib/theme";
import { teamsQuery } from "@/teams/teams";
import { Button, buttonVariants } from "./ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "./ui/menu";

export function Avatar({ name, className = "size-7 text-xs" }: { name: string; className?: string }) {
  return (
    <span
      aria-hidden
      className={`grid place-items-center rounded-full bg-accent font-semibold uppercase text-accent-foreground ${className}`}
    >
      {name.slice(0, 2)}
    </span>
  );
}

/** The signed-in person's menu: theme, settings, log out. A "Log in" link when signed out. */
export function UserMenu() {
  const me = useMe();
  const theme = useTheme();
  const logout = useLogout();
  const navigate = useNavigate();
  const teams = useQuery({ ...teamsQuery, enabled: !!me.data });

  if (me.isPending) return <span className="size-8" />;
  if (!me.data) {
    return (
      <Link to="/login" className={buttonVariants({ variant: "secondary", size: "sm" })}>
        <LogIn /> Log in
      </Link>
    );
  }
  const user = me.data;
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="ghost" size="icon" aria-label={`Account menu for ${user.username}`} className="rounded-full">
          <Avatar name={user.username} />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent>
        <DropdownMenuLabel>
          <div className="text-[13px] font-semibold text-foreground">{user.username}</div>
          <div className="font-normal">{user.email}</div>
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        <DropdownMenuItem onSelect={toggleTheme}>
          {theme === "dark" ? <Sun /> : <Moon />}
          {theme === "dark" ? "Light theme" : "Dark theme"}
        </DropdownMenuItem>
        <DropdownMenuItem onSelect={() => navigate("/settings")}>
          <Settings /> Settings
        </DropdownMenuItem>
        <DropdownMenuItem onSelect={() => navigate("/usage")}>
          <Coins /> Usage &amp; billing
        </DropdownMenuItem>
        <DropdownMenuItem onSelect={() => navigate("/courses")}>
          <GraduationCap /> Courses
        </DropdownMenuItem>
        {teams.data && teams.data.length > 0 && (
          <>
            <DropdownMenuSeparator />
            <DropdownMenuLabel>Teams</DropdownMenuLabel>
            {teams.data.slice(0, 8).map((t) => (
              <DropdownMenuItem key={t.id} onSelect={() => navigate(t.url)}>
                <Users /> <span className="truncate">{t.displayName || t.name}</span>
              </DropdownMenuItem>
            ))}
          </>
        )}
        <DropdownMenuSeparator />
        <DropdownMenuItem onSelect={() => logout.mutate()} disabled={logout.isPending}>
          <LogOut /> Log out
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
