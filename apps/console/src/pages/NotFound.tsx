import { PageHeading } from '../ui';

export function NotFound() {
  return (
    <section>
      <PageHeading title="Not found" />
      <p>There is no page here.</p>
      <p>
        <a href="/console/">Go to the live calls</a>
      </p>
    </section>
  );
}
